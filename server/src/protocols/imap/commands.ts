import type { Command, CommandOf } from './parser.js';
import type { ImapSession, Result, State } from './session.js';
import { authHandlers } from './cmd-auth.js';
import { mailboxHandlers } from './cmd-mailbox.js';
import { selectHandlers } from './cmd-select.js';
import { fetchHandlers } from './cmd-fetch.js';
import { storeHandlers } from './cmd-store.js';
import { searchHandlers } from './cmd-search.js';

/** A command family file exports handlers for its command names. */
export interface Handler<C extends Command = Command> {
  states: State[];
  run(session: ImapSession, cmd: C): Promise<Result>;
  /** Announce other sessions' changes after it (default true). */
  sync?: boolean;
  /** EXPUNGE responses may be sent after it even in its sequence-number form. */
  expungeOk?: boolean;
}

export type HandlerMap = { [N in Command['name']]: Handler<CommandOf<N>> };

export const ANY: State[] = ['notauth', 'auth', 'selected'];
export const AUTHED: State[] = ['auth', 'selected'];
export const SELECTED: State[] = ['selected'];

export const handlers: HandlerMap = {
  ...authHandlers,
  ...mailboxHandlers,
  ...selectHandlers,
  ...fetchHandlers,
  ...storeHandlers,
  ...searchHandlers,
};
