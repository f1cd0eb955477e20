// The time-bucket tags of a job's root promise: the UTC day, hour, minute and second it was
// submitted, so that `ls --all` finds the newest jobs by searching the newest buckets first
// instead of reading every job (a search answers in id order, and tags are set only when a
// promise is created).

/** One level of buckets: its tag and its width. */
export interface BucketLevel {
  readonly tag: string;
  readonly widthMs: number;
  /** How many characters of the ISO time name a bucket of this level. */
  readonly chars: number;
}

/** Coarsest first: a walk probes a day, then its hours, minutes and seconds. */
export const BUCKET_LEVELS: readonly BucketLevel[] = [
  { tag: "modulate:day", widthMs: 86_400_000, chars: 10 },
  { tag: "modulate:hour", widthMs: 3_600_000, chars: 13 },
  { tag: "modulate:minute", widthMs: 60_000, chars: 16 },
  { tag: "modulate:second", widthMs: 1_000, chars: 19 },
];

/** The name of the bucket of `level` holding `atMs`: "2026-12-03T01:46" for a minute. */
export function bucketName(level: BucketLevel, atMs: number): string {
  return new Date(atMs).toISOString().slice(0, level.chars);
}

/** The tags a root promise of a job submitted at `submittedAt` carries, one a level. */
export function timeBucketTags(submittedAt: number): Record<string, string> {
  return Object.fromEntries(
    BUCKET_LEVELS.map((level) => [level.tag, bucketName(level, submittedAt)]),
  );
}
