import { resolveRanges, type SequenceSet } from './sequence.js';

/**
 * The selected mailbox as one session sees it: the message sequence numbers (position in `uids`), the
 * MODSEQ up to which it has told its client about changes, and the changes other sessions made that it
 * has not announced yet. Sequence numbers change only when this session sends EXPUNGE/VANISHED or EXISTS.
 *
 * Memory: the view is a Uint32Array of UIDs (4 bytes a message), and sessions that open the same
 * unchanged mailbox share one array until one of them must change its view (copy on write): a thousand
 * sessions idling on one 10,000-message inbox hold one 40 KB array. Flags, sizes and dates are read from
 * the store when a command needs them.
 */

interface Snapshot {
  uids: Uint32Array;
  modseq: number;
}

/** The last UID list read per mailbox, keyed by id: shared by sessions selecting it at the same MODSEQ. */
const snapshots = new Map<string, Snapshot>();
const MAX_SNAPSHOTS = 256;

export function sharedSnapshot(mailboxId: string, modseq: number): Uint32Array | null {
  const s = snapshots.get(mailboxId);
  return s && s.modseq === modseq ? s.uids : null;
}

export function rememberSnapshot(mailboxId: string, modseq: number, uids: Uint32Array): void {
  snapshots.delete(mailboxId);
  snapshots.set(mailboxId, { uids, modseq });
  if (snapshots.size > MAX_SNAPSHOTS) snapshots.delete(snapshots.keys().next().value!);
}

export class Selected {
  private arr: Uint32Array = new Uint32Array(0);
  private count = 0;
  private shared = false;
  /** Highest MODSEQ this session has processed. */
  modseq = 0;
  /** MODSEQs this session's own STOREs produced (their FETCH was already sent). */
  readonly own = new Set<number>();
  /** Expunged elsewhere, not yet announced (EXPUNGE may not be sent during FETCH/STORE/SEARCH). */
  pendingVanished = new Set<number>();
  /** Result of the last SEARCH RETURN (SAVE) (RFC 5182), as UIDs. */
  saved: number[] = [];

  constructor(
    readonly id: string,
    readonly name: string,
    readonly readOnly: boolean,
    readonly uidValidity: number,
    public uidNext: number,
  ) {}

  /** Takes a (possibly shared, never modified in place) ascending UID array. */
  load(uids: Uint32Array, modseq: number, shared = true): void {
    this.arr = uids;
    this.count = uids.length;
    this.shared = shared;
    this.modseq = modseq;
  }

  get exists(): number {
    return this.count;
  }

  /** UID of a sequence number (1-based). */
  uidAt(seq: number): number {
    return this.arr[seq - 1]!;
  }

  get lastUid(): number {
    return this.count ? this.arr[this.count - 1]! : 0;
  }

  /** Every UID of the view, ascending. */
  get uids(): number[] {
    return Array.from(this.arr.subarray(0, this.count));
  }

  has(uid: number): boolean {
    return this.seqOf(uid) > 0;
  }

  seqOf(uid: number): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.arr[mid]!;
      if (v === uid) return mid + 1;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  private own_(extra = 0): void {
    if (!this.shared && this.arr.length >= this.count + extra) return;
    const next = new Uint32Array(Math.max(16, (this.count + extra) * (extra ? 1.5 : 1)) | 0);
    next.set(this.arr.subarray(0, this.count));
    this.arr = next;
    this.shared = false;
  }

  /** Removes a UID; returns the sequence number it had (0 when unknown). */
  remove(uid: number): number {
    this.pendingVanished.delete(uid);
    const seq = this.seqOf(uid);
    if (!seq) return 0;
    this.own_();
    this.arr.copyWithin(seq - 1, seq, this.count);
    this.count--;
    return seq;
  }

  /** Appends a new UID (UIDs only grow); false when already there. */
  add(uid: number): boolean {
    if (this.has(uid)) return false;
    this.own_(1);
    if (uid > this.lastUid) this.arr[this.count++] = uid;
    else {
      let i = this.count;
      while (i > 0 && this.arr[i - 1]! > uid) {
        this.arr[i] = this.arr[i - 1]!;
        i--;
      }
      this.arr[i] = uid;
      this.count++;
    }
    if (uid >= this.uidNext) this.uidNext = uid + 1;
    return true;
  }

  /** The UIDs a sequence set names (sequence numbers or UIDs), ascending, existing only. */
  resolve(set: SequenceSet, byUid: boolean): number[] {
    if ('saved' in set) return this.saved.filter((u) => this.has(u));
    if (!byUid) {
      const out: number[] = [];
      for (const r of merge(resolveRanges(set, this.count))) {
        for (let q = r.from; q <= Math.min(r.to, this.count); q++) out.push(this.arr[q - 1]!);
      }
      return out;
    }
    const merged = merge(resolveRanges(set, this.lastUid));
    const out: number[] = [];
    for (const r of merged) {
      let lo = 0;
      let hi = this.count;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.arr[mid]! < r.from) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < this.count && this.arr[i]! <= r.to; i++) out.push(this.arr[i]!);
    }
    return out;
  }
}

/** Sorted, non-overlapping ranges. */
function merge(ranges: Array<{ from: number; to: number }>): Array<{ from: number; to: number }> {
  const merged: Array<{ from: number; to: number }> = [];
  for (const r of [...ranges].sort((x, y) => x.from - y.from)) {
    const last = merged[merged.length - 1];
    if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else merged.push({ ...r });
  }
  return merged;
}
