import type { BastideModule } from '../../platform/module.js';
import { startImap } from './server.js';

/**
 * The IMAP server (RFC 9051 / RFC 3501 and the extensions listed in docs/specifications.md) over the
 * mail store. A module of its own so that it only brings its listener: mailbox data and rules live in
 * modules/mail.
 */
export const imapModule: BastideModule = {
  name: 'imap',
  protocols: [{ name: 'imap', role: 'api', start: startImap }],
};

export { imapListening } from './server.js';
