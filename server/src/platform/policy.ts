import { AppError } from '../errors.js';

/**
 * The one policy layer. Every route and protocol handler asks `can(actor, action, resource)`;
 * modules register the rules for their resource types. Unknown resource types are refused.
 */
export type Scope = 'dav' | 'mail' | 'api';

export type Actor =
  | { kind: 'anonymous' }
  | { kind: 'system' }
  | {
      kind: 'user';
      userId: string;
      login: string;
      isAdmin: boolean;
      /** How this request authenticated. App passwords and tokens carry scopes. */
      via: 'session' | 'token' | 'app-password';
      scopes: Scope[] | 'all';
      sessionId?: string;
    };

export type UserActor = Extract<Actor, { kind: 'user' }>;

export interface Resource {
  type: string;
  id?: string;
  /** Loaded facts a rule may need (owner id, space id, ...). */
  [fact: string]: unknown;
}

export type Rule = (actor: Actor, action: string, resource: Resource) => boolean | Promise<boolean>;

export class Policy {
  private rules = new Map<string, Rule>();

  register(type: string, rule: Rule): void {
    if (this.rules.has(type)) throw new Error(`policy for ${type} registered twice`);
    this.rules.set(type, rule);
  }

  async can(actor: Actor, action: string, resource: Resource): Promise<boolean> {
    if (actor.kind === 'system') return true;
    const rule = this.rules.get(resource.type);
    if (!rule) return false;
    return rule(actor, action, resource);
  }

  /** Throws `forbidden` (or `unauthenticated` for anonymous actors) unless allowed. */
  async authorize(actor: Actor, action: string, resource: Resource): Promise<void> {
    if (await this.can(actor, action, resource)) return;
    throw new AppError(actor.kind === 'anonymous' ? 'unauthenticated' : 'forbidden');
  }
}

export function requireUser(actor: Actor): UserActor {
  if (actor.kind !== 'user') throw new AppError('unauthenticated');
  return actor;
}

export function hasScope(actor: Actor, scope: Scope): boolean {
  return actor.kind === 'user' && (actor.scopes === 'all' || actor.scopes.includes(scope));
}
