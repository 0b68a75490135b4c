/**
 * The database type. Each module adds its tables by declaration merging:
 *
 *   declare module '../../platform/db/schema.js' {
 *     interface Database { users: UsersTable }
 *   }
 *
 * Conventions (identical on SQLite and PostgreSQL): ids are text, times are integer milliseconds
 * (bigint on PostgreSQL, returned as numbers), booleans are integers 0/1, JSON is text.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Database {}
