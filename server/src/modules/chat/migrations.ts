import type { Migration } from '../../platform/db/migrate.js';

/**
 * Chat tables. Channels are organisation-wide ('org'), inside a space ('space'), direct messages ('dm',
 * two people) or group DMs ('group'). Membership of org/dm/group channels and of private space channels
 * is explicit (chat_members); public space channels derive theirs from the space's members.
 */
declare module '../../platform/db/schema.js' {
  interface Database {
    chat_channels: {
      id: string;
      kind: string;
      visibility: string;
      space_id: string | null;
      name: string;
      topic: string;
      archived: number;
      /** Who may use @channel/@here: 'all' members, 'managers', or 'none'. */
      mention_all: string;
      /** Messages older than this many days are deleted by the retention job; null keeps them. */
      retention_days: number | null;
      /** For dm/group: the sorted member ids, so that one conversation exists per set of people. */
      dm_key: string | null;
      created_by: string | null;
      created_at: number;
      updated_at: number;
      last_message_id: string | null;
    };
    chat_members: { channel_id: string; user_id: string; role: string; joined_at: number };
    chat_messages: {
      id: string;
      channel_id: string;
      root_id: string | null;
      user_id: string | null;
      /** Webhook posts: the hook and the name/emoji it gave. */
      hook_id: string | null;
      author_name: string | null;
      icon_emoji: string | null;
      body: string;
      /** JSON array of Slack-style attachments (webhooks), or null. */
      attachments: string | null;
      created_at: number;
      edited_at: number | null;
      deleted_at: number | null;
      deleted_by: string | null;
      pinned_at: number | null;
      pinned_by: string | null;
      reply_count: number;
      last_reply_id: string | null;
      last_reply_at: number | null;
    };
    chat_reactions: { message_id: string; user_id: string; emoji: string; created_at: number };
    chat_mentions: { message_id: string; user_id: string; channel_id: string; root_id: string | null };
    chat_read: { channel_id: string; user_id: string; last_read_id: string; updated_at: number };
    chat_thread_read: { root_id: string; user_id: string; channel_id: string; last_read_id: string | null; updated_at: number };
    chat_hooks: { id: string; channel_id: string; name: string; token_hash: string; created_by: string | null; created_at: number; revoked_at: number | null };
    chat_presence: { user_id: string; status: string; updated_at: number };
  }
}

export const chatMigrations: Migration[] = [
  {
    id: '0001_chat',
    async up(db) {
      await db.schema
        .createTable('chat_channels')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('visibility', 'text', (c) => c.notNull())
        .addColumn('space_id', 'text', (c) => c.references('spaces.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('topic', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('archived', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('mention_all', 'text', (c) => c.notNull().defaultTo('all'))
        .addColumn('retention_days', 'integer')
        .addColumn('dm_key', 'text', (c) => c.unique())
        .addColumn('created_by', 'text', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('last_message_id', 'text')
        .execute();
      await db.schema.createIndex('chat_channels_space').on('chat_channels').column('space_id').execute();
      await db.schema
        .createTable('chat_members')
        .addColumn('channel_id', 'text', (c) => c.notNull().references('chat_channels.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('joined_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('chat_members_pk', ['channel_id', 'user_id'])
        .execute();
      await db.schema.createIndex('chat_members_user').on('chat_members').column('user_id').execute();
      await db.schema
        .createTable('chat_messages')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('channel_id', 'text', (c) => c.notNull().references('chat_channels.id').onDelete('cascade'))
        .addColumn('root_id', 'text', (c) => c.references('chat_messages.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('hook_id', 'text')
        .addColumn('author_name', 'text')
        .addColumn('icon_emoji', 'text')
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('attachments', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('edited_at', 'bigint')
        .addColumn('deleted_at', 'bigint')
        .addColumn('deleted_by', 'text')
        .addColumn('pinned_at', 'bigint')
        .addColumn('pinned_by', 'text')
        .addColumn('reply_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_reply_id', 'text')
        .addColumn('last_reply_at', 'bigint')
        .execute();
      await db.schema.createIndex('chat_messages_channel').on('chat_messages').columns(['channel_id', 'root_id', 'id']).execute();
      await db.schema.createIndex('chat_messages_root').on('chat_messages').columns(['root_id', 'id']).execute();
      await db.schema.createIndex('chat_messages_created').on('chat_messages').columns(['channel_id', 'created_at']).execute();
      await db.schema
        .createTable('chat_reactions')
        .addColumn('message_id', 'text', (c) => c.notNull().references('chat_messages.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('emoji', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('chat_reactions_pk', ['message_id', 'user_id', 'emoji'])
        .execute();
      await db.schema
        .createTable('chat_mentions')
        .addColumn('message_id', 'text', (c) => c.notNull().references('chat_messages.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('channel_id', 'text', (c) => c.notNull())
        .addColumn('root_id', 'text')
        .addPrimaryKeyConstraint('chat_mentions_pk', ['message_id', 'user_id'])
        .execute();
      await db.schema.createIndex('chat_mentions_user').on('chat_mentions').columns(['user_id', 'channel_id', 'message_id']).execute();
      await db.schema
        .createTable('chat_read')
        .addColumn('channel_id', 'text', (c) => c.notNull().references('chat_channels.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('last_read_id', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('chat_read_pk', ['channel_id', 'user_id'])
        .execute();
      await db.schema
        .createTable('chat_thread_read')
        .addColumn('root_id', 'text', (c) => c.notNull().references('chat_messages.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('channel_id', 'text', (c) => c.notNull())
        .addColumn('last_read_id', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('chat_thread_read_pk', ['root_id', 'user_id'])
        .execute();
      await db.schema.createIndex('chat_thread_read_user').on('chat_thread_read').column('user_id').execute();
      await db.schema
        .createTable('chat_hooks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('channel_id', 'text', (c) => c.notNull().references('chat_channels.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_by', 'text', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema
        .createTable('chat_presence')
        .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
];
