/**
 * The error catalog: one stable code per failure a client can see, its HTTP status, a user-safe
 * English message (the web app translates by code), and the protocol replies it maps to.
 * Nothing here ever carries a stack, a config value or an SQL text to the wire.
 */
export interface CatalogEntry {
  status: number;
  message: string;
  /** SMTP reply (code and enhanced status) when a mail protocol reports this error. */
  smtp?: string;
  /** IMAP response code, e.g. "[AUTHENTICATIONFAILED]". */
  imap?: string;
  /** Temporary errors may be retried by protocol clients. */
  temporary?: boolean;
}

export const CATALOG = {
  bad_request: { status: 400, message: 'The request is malformed.', smtp: '501 5.5.4', imap: '[PARSE]' },
  validation_failed: { status: 400, message: 'Some fields are missing or invalid.', smtp: '501 5.5.4', imap: '[PARSE]' },
  invalid_json: { status: 400, message: 'The request body is not valid JSON.' },
  invalid_encoding: { status: 400, message: 'The request is not valid UTF-8.' },
  payload_too_large: { status: 413, message: 'The request body is too large.', smtp: '552 5.3.4' },
  unsupported_media_type: { status: 415, message: 'This content type is not accepted here.' },
  unauthenticated: { status: 401, message: 'You need to sign in.', smtp: '530 5.7.0', imap: '[AUTHENTICATIONFAILED]' },
  invalid_credentials: { status: 401, message: 'Wrong login or password.', smtp: '535 5.7.8', imap: '[AUTHENTICATIONFAILED]' },
  invalid_mfa_code: { status: 401, message: 'This code is not valid.' },
  mfa_token_expired: { status: 401, message: 'The sign-in took too long; start again.' },
  too_many_attempts: { status: 429, message: 'Too many attempts; try again later.', smtp: '454 4.7.0', imap: '[UNAVAILABLE]', temporary: true },
  rate_limited: { status: 429, message: 'Too many requests; slow down.', smtp: '421 4.7.0', temporary: true },
  csrf_failed: { status: 403, message: 'The request did not come from the Bastide app.' },
  forbidden: { status: 403, message: 'You are not allowed to do this.', smtp: '550 5.7.1', imap: '[NOPERM]' },
  not_found: { status: 404, message: 'Not found.', smtp: '550 5.1.1', imap: '[NONEXISTENT]' },
  method_not_allowed: { status: 405, message: 'This method is not allowed here.' },
  precondition_failed: { status: 412, message: 'A precondition of this request failed.' },
  locked: { status: 423, message: 'This resource is locked.' },
  invalid_name: { status: 400, message: 'This name is not allowed.' },
  already_exists: { status: 405, message: 'Something with this name already exists here.' },
  bad_gateway: { status: 502, message: 'This destination is on another server.' },
  quota_exceeded: { status: 507, message: 'Your storage quota is exceeded.' },
  conflict: { status: 409, message: 'This conflicts with the current state.', imap: '[ALREADYEXISTS]' },
  login_taken: { status: 409, message: 'This login is already used.' },
  email_taken: { status: 409, message: 'This e-mail address is already used.' },
  name_taken: { status: 409, message: 'This name is already used.' },
  last_admin: { status: 409, message: 'The last administrator cannot be removed or disabled.' },
  setup_done: { status: 409, message: 'Bastide is already set up.' },
  setup_token_invalid: { status: 403, message: 'This setup link is not valid.' },
  password_policy: { status: 400, message: 'The password does not meet the password policy.' },
  totp_not_started: { status: 409, message: 'Start the authenticator set-up first.' },
  totp_already_enabled: { status: 409, message: 'Two-step verification is already on.' },
  not_ready: { status: 503, message: 'The service is not ready.', smtp: '421 4.3.0', imap: '[UNAVAILABLE]', temporary: true },
  shutting_down: { status: 503, message: 'The server is restarting; try again in a moment.', smtp: '421 4.3.2', imap: '[UNAVAILABLE]', temporary: true },
  // Drive sharing and public links.
  link_unavailable: { status: 410, message: 'This link has expired, reached its download limit or was removed.' },
  link_locked: { status: 401, message: 'This link is protected by a password.' },
  link_password_wrong: { status: 403, message: 'The password is not right.' },
  // Drive transfers (tus uploads, zip downloads, import).
  upload_expired: { status: 410, message: 'This upload has expired; start it again.' },
  checksum_mismatch: { status: 460, message: 'The data does not match its checksum; send it again.' },
  // Calendar and contacts (CalDAV/CardDAV preconditions are named in the error's details).
  invalid_calendar_data: { status: 400, message: 'This is not valid iCalendar data.' },
  invalid_vcard: { status: 400, message: 'This is not valid vCard data.' },
  unsupported_component: { status: 400, message: 'This calendar does not accept this kind of item.' },
  uid_conflict: { status: 409, message: 'Another item in this collection already has this UID.' },
  not_an_attendee: { status: 409, message: 'You are not an attendee of this event.' },
  not_organizer: { status: 409, message: 'Only the organizer of this event can change its attendees.' },
  mailbox_exists: { status: 409, message: 'A mailbox with this name already exists.', imap: '[ALREADYEXISTS]' },
  mail_domain_taken: { status: 409, message: 'This mail domain is already configured.' },
  mail_address_taken: { status: 409, message: 'This e-mail address is already used.' },
  unknown_recipient: { status: 404, message: 'No mailbox has this address.', smtp: '550 5.1.1' },
  sender_not_allowed: { status: 403, message: 'You may not send mail from this address.', smtp: '553 5.7.1' },
  internal: { status: 500, message: 'Something went wrong on the server.', smtp: '451 4.3.0', imap: '[SERVERBUG]', temporary: true },
} as const satisfies Record<string, CatalogEntry>;

export type ErrorCode = keyof typeof CATALOG;

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly details?: Record<string, unknown>,
    message?: string,
  ) {
    super(message ?? CATALOG[code].message);
    this.status = CATALOG[code].status;
  }
  toJSON(): { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } } {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
