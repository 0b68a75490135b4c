import { ParseError, type Reader } from './reader.js';

/** One range of a sequence set; `*` is kept symbolic (STAR) until the mailbox size is known. */
export interface SeqRange {
  from: number;
  to: number;
}
export const STAR = -1;

/** sequence-set (RFC 9051): ranges joined by ",", numbers or "*", "a:b" in either order; "$" = saved result. */
export type SequenceSet = { ranges: SeqRange[] } | { saved: true };

const MAX_RANGES = 10000;

export function parseSequenceSet(r: Reader): SequenceSet {
  if (r.maybeChar('$')) return { saved: true };
  const ranges: SeqRange[] = [];
  const one = (): number => {
    if (r.maybeChar('*')) return STAR;
    const n = r.number32();
    if (n === 0) throw new ParseError('Sequence numbers start at 1');
    return n;
  };
  for (;;) {
    const from = one();
    const to = r.maybeChar(':') ? one() : from;
    ranges.push({ from, to });
    if (ranges.length > MAX_RANGES) throw new ParseError('Sequence set too long');
    if (!r.maybeChar(',')) break;
  }
  return { ranges };
}

/** Resolves `*` to `max` and orders each range; an empty mailbox resolves to no range. */
export function resolveRanges(set: { ranges: SeqRange[] }, max: number): SeqRange[] {
  const out: SeqRange[] = [];
  for (const { from, to } of set.ranges) {
    const a = from === STAR ? max : from;
    const b = to === STAR ? max : to;
    if (a === 0 && b === 0) continue;
    out.push({ from: Math.min(a, b), to: Math.max(a, b) });
  }
  return out;
}

export function inRanges(ranges: SeqRange[], n: number): boolean {
  for (const r of ranges) if (n >= r.from && n <= r.to) return true;
  return false;
}

/** Compact text form ("1:3,7") of a sorted list of numbers. */
export function formatSet(nums: number[]): string {
  if (nums.length === 0) return '';
  const sorted = [...nums].sort((a, b) => a - b);
  const parts: string[] = [];
  let start = sorted[0]!;
  let prev = start;
  for (let i = 1; i <= sorted.length; i++) {
    const n = sorted[i];
    if (n !== undefined && (n === prev + 1 || n === prev)) {
      prev = n;
      continue;
    }
    parts.push(start === prev ? String(start) : `${start}:${prev}`);
    if (n !== undefined) start = prev = n;
  }
  return parts.join(',');
}

/** Formats numbers in the order given (COPYUID pairs must keep source/destination correspondence). */
export function formatOrdered(nums: number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < nums.length) {
    let j = i;
    while (j + 1 < nums.length && nums[j + 1] === nums[j]! + 1) j++;
    parts.push(i === j ? String(nums[i]) : `${nums[i]}:${nums[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
