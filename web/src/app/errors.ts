/** Helpers that turn API error details into translated sentences. */
import { ApiError } from './api';
import { errorText, hasKey, type TFunction } from './i18n';

type Rule = string | { code?: string; id?: string; rule?: string; name?: string; message?: string; min?: number; max?: number; value?: number; ok?: boolean; passed?: boolean };

/** For 400 password_policy: one sentence per broken rule (details.rules), translated when known. */
export function passwordRuleTexts(t: TFunction, err: unknown): string[] {
  if (!(err instanceof ApiError) || err.code !== 'password_policy') return [];
  const raw = err.details.rules;
  const rules: Rule[] = Array.isArray(raw) ? (raw as Rule[]) : raw && typeof raw === 'object' ? Object.entries(raw as Record<string, unknown>).map(([k, v]) => (typeof v === 'object' && v !== null ? { code: k, ...(v as object) } : typeof v === 'number' ? { code: k, value: v } : v === false ? { code: k, ok: false } : { code: k })) : [];
  const out: string[] = [];
  for (const r of rules) {
    if (typeof r === 'string') {
      // "min_length:12" → rule min_length with the number 12.
      const [code = '', num] = r.split(':');
      const n = num !== undefined && /^\d+$/.test(num) ? Number(num) : undefined;
      out.push(ruleText(t, code, n === undefined ? {} : { count: n }) ?? r);
      continue;
    }
    if (r.ok === true || r.passed === true) continue;
    const code = r.code ?? r.id ?? r.rule ?? r.name ?? '';
    const n = r.min ?? r.max ?? r.value;
    out.push(ruleText(t, code, n === undefined ? {} : { count: n }) ?? r.message ?? code);
  }
  return out.filter(Boolean);
}

function ruleText(t: TFunction, code: string, vars: { count?: number }): string | null {
  const norm = code.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  const plain = `passwordRule.${norm}_plain`;
  const key = `passwordRule.${norm}`;
  if (vars.count === undefined && hasKey(plain)) return t(plain);
  if (!hasKey(key)) return null;
  return t(key, vars.count === undefined ? {} : { count: vars.count });
}

/** The main sentence plus, for a password policy error, the list of rules. */
export function describeError(t: TFunction, err: unknown): { message: string; rules: string[] } {
  return { message: errorText(t, err), rules: passwordRuleTexts(t, err) };
}
