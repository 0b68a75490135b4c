import { Type, type Static, type TSchema } from '@sinclair/typebox';

const strict = { additionalProperties: false } as const;
export const Id = Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}$' });
export const IdParams = Type.Object({ id: Id }, strict);
export const Language = Type.Union([Type.Literal('fr'), Type.Literal('en')]);
export const Theme = Type.Union([Type.Literal('system'), Type.Literal('light'), Type.Literal('dark')]);
export const ScopeT = Type.Union([Type.Literal('dav'), Type.Literal('mail'), Type.Literal('api')]);
const Password = Type.String({ minLength: 1, maxLength: 1024 });
const Login = Type.String({ minLength: 1, maxLength: 320 });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const Me = Type.Object({
  id: Type.String(),
  login: Type.String(),
  displayName: Type.String(),
  email: Nullable(Type.String()),
  language: Nullable(Language),
  theme: Theme,
  isAdmin: Type.Boolean(),
  totpEnabled: Type.Boolean(),
  recoveryCodesLeft: Type.Integer(),
  createdAt: Type.Number(),
});

export const AdminUser = Type.Object({
  id: Type.String(),
  login: Type.String(),
  displayName: Type.String(),
  email: Nullable(Type.String()),
  isAdmin: Type.Boolean(),
  disabled: Type.Boolean(),
  totpEnabled: Type.Boolean(),
  createdAt: Type.Number(),
  lastLoginAt: Nullable(Type.Number()),
});

export const SetupBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 200 }),
    login: Type.String({ minLength: 1, maxLength: 63 }),
    displayName: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.Optional(Type.String({ maxLength: 254 })),
    password: Password,
    language: Type.Optional(Language),
  },
  strict,
);

export const LoginBody = Type.Object({ login: Login, password: Password }, strict);
export const MfaBody = Type.Object({ mfaToken: Type.String({ minLength: 1, maxLength: 200 }), code: Type.String({ minLength: 1, maxLength: 64 }) }, strict);
export const LoginReply = Type.Union([
  Type.Object({ status: Type.Literal('ok'), user: Me }),
  Type.Object({ status: Type.Literal('mfa_required'), mfaToken: Type.String() }),
]);

export const ProfilePatch = Type.Object(
  {
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    email: Type.Optional(Nullable(Type.String({ maxLength: 254 }))),
    language: Type.Optional(Nullable(Language)),
    theme: Type.Optional(Theme),
  },
  strict,
);
export const PasswordChange = Type.Object({ currentPassword: Password, newPassword: Password }, strict);
export const PasswordOnly = Type.Object({ password: Password }, strict);
export const CodeOnly = Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) }, strict);

export const AppPasswordCreate = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }), scopes: Type.Array(ScopeT, { minItems: 1, maxItems: 3, uniqueItems: true }) },
  strict,
);
export const AppPasswordView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  scopes: Type.Array(ScopeT),
  createdAt: Type.Number(),
  lastUsedAt: Nullable(Type.Number()),
});
export const TokenCreate = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }), expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })) },
  strict,
);
export const TokenView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  createdAt: Type.Number(),
  lastUsedAt: Nullable(Type.Number()),
  expiresAt: Nullable(Type.Number()),
});

export const UserCreate = Type.Object(
  {
    login: Type.String({ minLength: 1, maxLength: 63 }),
    displayName: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.Optional(Nullable(Type.String({ maxLength: 254 }))),
    password: Type.Optional(Password),
    isAdmin: Type.Optional(Type.Boolean()),
  },
  strict,
);
export const UserPatch = Type.Object(
  {
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    email: Type.Optional(Nullable(Type.String({ maxLength: 254 }))),
    isAdmin: Type.Optional(Type.Boolean()),
    disabled: Type.Optional(Type.Boolean()),
  },
  strict,
);
export const ResetBody = Type.Object({ password: Type.Optional(Password) }, strict);
export const ListQuery = Type.Object(
  { q: Type.Optional(Type.String({ maxLength: 200 })), cursor: Type.Optional(Type.String({ maxLength: 200 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })) },
  strict,
);
export const GroupCreate = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), description: Type.Optional(Type.String({ maxLength: 1000 })) }, strict);
export const GroupPatch = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })), description: Type.Optional(Type.String({ maxLength: 1000 })) },
  strict,
);
export const GroupView = Type.Object({ id: Type.String(), name: Type.String(), description: Type.String(), memberCount: Type.Integer(), createdAt: Type.Number() });
export const MemberParams = Type.Object({ id: Id, userId: Id }, strict);
export const AuditQuery = Type.Object(
  { cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })), action: Type.Optional(Type.String({ maxLength: 100 })) },
  strict,
);

export type SetupBodyT = Static<typeof SetupBody>;
