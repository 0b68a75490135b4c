import type { BastideModule } from '../platform/module.js';
import { imapModule } from '../protocols/imap/index.js';
import { identityModule } from './identity/index.js';
import { spacesModule } from './spaces/index.js';
import { notificationsModule } from './notifications/index.js';
import { searchModule } from './search/index.js';
import { portabilityModule } from './portability/index.js';
import { driveModule } from './drive/index.js';
import { calendarModule } from './calendar/index.js';
import { contactsModule } from './contacts/index.js';
import { chatModule } from './chat/index.js';
import { mailModule } from './mail/index.js';

/** Every module, in dependency order (migrations run in this order). Add a module here. */
export const modules: BastideModule[] = [identityModule, spacesModule, notificationsModule, searchModule, portabilityModule, driveModule, calendarModule, contactsModule, chatModule, mailModule, imapModule];
