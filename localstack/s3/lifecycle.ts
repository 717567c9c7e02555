/**
 * Bucket lifecycle rules for the local cloud, which s3rver does not have:
 *
 * - PutBucketLifecycleConfiguration, GetBucketLifecycleConfiguration and DeleteBucketLifecycle
 *   (`PUT|GET|DELETE /bucket?lifecycle`). A configuration is checked as S3 checks it (1 to 1000 rules, unique
 *   IDs, Status, exactly one of Filter or the legacy rule-level Prefix, at most one condition in a Filter
 *   outside And, at least one action, positive Days, a Date at midnight UTC, no tag filter with
 *   AbortIncompleteMultipartUpload) and kept as sent, in one JSON file in the cloud's state directory, so that
 *   the rules survive a restart. GetBucketLifecycleConfiguration answers the document as it was put;
 *   NoSuchLifecycleConfiguration (404) when there is none. Deleting a bucket through the edge deletes its rules.
 *
 * - A sweeper, every `sweepIntervalMs`, applies each bucket's enabled rules:
 *   - Expiration: an object matching the rule's filter (Prefix, Tag, ObjectSizeGreaterThan/LessThan, And of
 *     those, or the legacy Prefix) is deleted once it is `Days × daySeconds` seconds old (since it was last
 *     written), or once `Date` has passed. Tags are read only for objects the rest of the filter and the age
 *     already select; the check and the delete are made under the key's lock, so an object re-written or
 *     re-tagged in the meantime is judged as it is now.
 *   - AbortIncompleteMultipartUpload: an upload under the rule's prefix is aborted once it is
 *     `DaysAfterInitiation × daySeconds` seconds old.
 *   Transitions and the noncurrent-version and delete-marker actions are accepted and stored but do nothing
 *   (s3rver has neither storage classes nor versions).
 *
 * Deviation from S3, on purpose: S3 counts days from the midnight (UTC) after an object's creation and
 * deletes some time after the rule comes due; here the plain age counts (one "day" is `daySeconds` seconds,
 * `CALMS_LOCAL_LIFECYCLE_DAY_SECONDS`), and the object goes at the first sweep after that, which is what a
 * tester wants to wait for. Objects are listed from s3rver, whose LastModified has whole seconds; the age
 * that decides is the object file's own modification time, to the millisecond.
 */
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { call, errorCode, readBody, reply, S3Failure, sendXml, type Target } from './http';
import { lockKeyOf, type ObjectName, requestPathOf, type S3rverLayout } from './layout';
import type { KeyLocks } from './locks';
import type { Multipart, Upload } from './multipart';
import { hasTags, readTags, removeTags, type Tag } from './tagging';
import { childNamed, childrenNamed, childRawText, childText, MalformedXmlError, parseXml, type XmlElement } from './xml';

export interface LifecycleRule {
  readonly id?: string;
  readonly enabled: boolean;
  readonly prefix: string;
  readonly tags: readonly Tag[];
  readonly sizeGreaterThan?: number;
  readonly sizeLessThan?: number;
  readonly expirationDays?: number;
  readonly expirationDateMs?: number;
  readonly abortAfterDays?: number;
}

export interface LifecycleOptions {
  readonly s3: Target;
  readonly layout: S3rverLayout;
  readonly keyLocks: KeyLocks;
  readonly multipart: Multipart;
  /** The JSON file the configurations are kept in. */
  readonly file: string;
  /** Length of one lifecycle "day". */
  readonly daySeconds: number;
  readonly sweepIntervalMs: number;
  readonly log?: (line: string) => void;
}

const MAX_CONFIGURATION_BYTES = 2 * 1024 * 1024;
const MAX_RULES = 1000;

/** A sweep interval that suits the day length: a 20th of a day, between 250 ms and a minute. */
export const defaultSweepIntervalMs = (daySeconds: number): number => Math.min(60_000, Math.max(250, Math.round(daySeconds * 50)));

const malformed = (why: string) =>
  new S3Failure(400, 'MalformedXML', `The XML you provided was not well-formed or did not validate against our published schema (${why})`);

function positiveInteger(text: string | undefined, what: string): number {
  if (text === undefined || !/^\d+$/.test(text) || Number(text) < 1)
    throw new S3Failure(400, 'InvalidArgument', `'${what}' must be a positive integer`);
  return Number(text);
}

function nonNegativeInteger(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new S3Failure(400, 'InvalidArgument', `'${what}' must be a non-negative integer`);
  return Number(text);
}

const CONDITIONS = ['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan', 'And'];

function parseTag(element: XmlElement): Tag {
  const Key = childRawText(element, 'Key');
  if (!Key) throw malformed('a Tag without a Key');
  return { Key, Value: childRawText(element, 'Value') ?? '' };
}

function parseFilter(filter: XmlElement): Pick<LifecycleRule, 'prefix' | 'tags' | 'sizeGreaterThan' | 'sizeLessThan'> {
  const conditions = filter.children.filter((child) => CONDITIONS.includes(child.name));
  if (conditions.length !== filter.children.length) throw malformed(`an unknown element in Filter`);
  if (conditions.length > 1) throw malformed('a Filter may hold only one of Prefix, Tag, ObjectSizeGreaterThan, ObjectSizeLessThan and And');
  const and = childNamed(filter, 'And');
  const source = and ?? filter;
  const tags = childrenNamed(source, 'Tag').map(parseTag);
  if (new Set(tags.map((tag) => tag.Key)).size !== tags.length) throw new S3Failure(400, 'InvalidRequest', 'Duplicate Tag Keys are not allowed.');
  const greater = childText(source, 'ObjectSizeGreaterThan');
  const less = childText(source, 'ObjectSizeLessThan');
  return {
    prefix: childRawText(source, 'Prefix') ?? '',
    tags,
    ...(greater !== undefined ? { sizeGreaterThan: nonNegativeInteger(greater, 'ObjectSizeGreaterThan') } : {}),
    ...(less !== undefined ? { sizeLessThan: nonNegativeInteger(less, 'ObjectSizeLessThan') } : {}),
  };
}

function parseRule(rule: XmlElement): LifecycleRule {
  const id = childText(rule, 'ID');
  if (id !== undefined && id.length > 255) throw new S3Failure(400, 'InvalidArgument', 'ID length should not exceed allowed limit of 255');
  const status = childText(rule, 'Status');
  if (status !== 'Enabled' && status !== 'Disabled') throw malformed('Status must be Enabled or Disabled');
  const filterElement = childNamed(rule, 'Filter');
  const legacyPrefix = childRawText(rule, 'Prefix');
  if (filterElement && legacyPrefix !== undefined) throw malformed('a rule may have a Filter or a Prefix, not both');
  if (!filterElement && legacyPrefix === undefined) throw malformed('a rule needs a Filter or a Prefix');
  const filter = filterElement ? parseFilter(filterElement) : { prefix: legacyPrefix!, tags: [] };

  const expiration = childNamed(rule, 'Expiration');
  let expirationDays: number | undefined;
  let expirationDateMs: number | undefined;
  if (expiration) {
    const days = childText(expiration, 'Days');
    const date = childText(expiration, 'Date');
    const marker = childText(expiration, 'ExpiredObjectDeleteMarker');
    if ([days, date, marker].filter((value) => value !== undefined).length !== 1) {
      throw malformed('Expiration needs exactly one of Days, Date and ExpiredObjectDeleteMarker');
    }
    if (days !== undefined) expirationDays = positiveInteger(days, 'Days');
    if (date !== undefined) {
      expirationDateMs = Date.parse(date);
      if (Number.isNaN(expirationDateMs)) throw new S3Failure(400, 'InvalidArgument', "'Date' must be an ISO 8601 date");
      if (expirationDateMs % 86_400_000 !== 0) throw new S3Failure(400, 'InvalidArgument', "'Date' must be at midnight GMT");
    }
  }
  const abort = childNamed(rule, 'AbortIncompleteMultipartUpload');
  const abortAfterDays = abort ? positiveInteger(childText(abort, 'DaysAfterInitiation'), 'DaysAfterInitiation') : undefined;
  if (abort && filter.tags.length > 0) throw new S3Failure(400, 'InvalidRequest', 'AbortIncompleteMultipartUpload cannot be specified with Tags.');
  const otherActions = ['Transition', 'NoncurrentVersionTransition', 'NoncurrentVersionExpiration'].some((action) => childNamed(rule, action));
  if (!expiration && !abort && !otherActions) throw new S3Failure(400, 'InvalidRequest', 'At least one action needs to be specified in a rule');
  return {
    ...(id !== undefined ? { id } : {}),
    enabled: status === 'Enabled',
    ...filter,
    ...(expirationDays !== undefined ? { expirationDays } : {}),
    ...(expirationDateMs !== undefined ? { expirationDateMs } : {}),
    ...(abortAfterDays !== undefined ? { abortAfterDays } : {}),
  };
}

/** The rules of a LifecycleConfiguration document; an S3Failure when S3 would refuse it. */
export function parseLifecycleConfiguration(xml: string): LifecycleRule[] {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (error) {
    if (error instanceof MalformedXmlError) throw malformed(error.message);
    throw error;
  }
  if (root.name !== 'LifecycleConfiguration') throw malformed(`<${root.name}> is not <LifecycleConfiguration>`);
  const rules = childrenNamed(root, 'Rule');
  if (rules.length === 0 || rules.length > MAX_RULES) throw malformed(`a configuration has 1 to ${MAX_RULES} rules`);
  const parsed = rules.map(parseRule);
  const ids = parsed.flatMap((rule) => (rule.id ? [rule.id] : []));
  if (new Set(ids).size !== ids.length) throw new S3Failure(400, 'InvalidArgument', 'Rule ID must be unique. Found same ID for more than one rule');
  return parsed;
}

const matchesObject = (rule: LifecycleRule, key: string, size: number): boolean =>
  key.startsWith(rule.prefix) &&
  (rule.sizeGreaterThan === undefined || size > rule.sizeGreaterThan) &&
  (rule.sizeLessThan === undefined || size < rule.sizeLessThan);

function commonPrefix(prefixes: readonly string[]): string {
  let common = prefixes[0] ?? '';
  for (const prefix of prefixes) while (!prefix.startsWith(common)) common = common.slice(0, -1);
  return common;
}

interface StoredConfiguration {
  /** The document as it was put, without its XML declaration. */
  readonly configuration: string;
  readonly rules: readonly LifecycleRule[];
}

interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly lastModifiedMs: number;
}

export class Lifecycle {
  private readonly configurations = new Map<string, StoredConfiguration>();
  private saving: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> = Promise.resolve();
  private stopped = true;
  private readonly reported = new Map<string, string>();

  private constructor(private readonly options: LifecycleOptions) {}

  /** Loads the configurations kept in `options.file`. */
  static async open(options: LifecycleOptions): Promise<Lifecycle> {
    const lifecycle = new Lifecycle(options);
    let stored: { buckets?: Record<string, { configuration?: string }> } = {};
    try {
      stored = JSON.parse(await fs.promises.readFile(options.file, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') lifecycle.report('load', `cannot read ${options.file}: ${(error as Error).message}`);
    }
    for (const [bucket, { configuration }] of Object.entries(stored.buckets ?? {})) {
      try {
        lifecycle.configurations.set(bucket, { configuration: configuration!, rules: parseLifecycleConfiguration(configuration!) });
      } catch (error) {
        lifecycle.report('load', `ignoring the stored lifecycle rules of ${bucket}: ${(error as Error).message}`);
      }
    }
    return lifecycle;
  }

  private get dayMs(): number {
    return this.options.daySeconds * 1000;
  }

  private report(topic: string, message: string): void {
    if (this.reported.get(topic) === message) return;
    this.reported.set(topic, message);
    (this.options.log ?? ((line) => process.stderr.write(`${line}\n`)))(`edge: S3 lifecycle: ${message}`);
  }

  private save(): Promise<void> {
    const buckets = Object.fromEntries([...this.configurations].map(([bucket, { configuration }]) => [bucket, { configuration }]));
    const text = `${JSON.stringify({ buckets }, null, 2)}\n`;
    const write = async () => {
      await fs.promises.mkdir(path.dirname(this.options.file), { recursive: true });
      const temporary = `${this.options.file}.${process.pid}.tmp`;
      await fs.promises.writeFile(temporary, text);
      await fs.promises.rename(temporary, this.options.file);
    };
    this.saving = this.saving.then(write, write);
    return this.saving;
  }

  /** `PUT|GET|DELETE /bucket?lifecycle`. */
  async handle(req: http.IncomingMessage, res: http.ServerResponse, bucket: string): Promise<void> {
    if (!['PUT', 'GET', 'DELETE'].includes(req.method ?? '')) {
      req.resume();
      throw new S3Failure(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    }
    const exists = await call(this.options.s3, 'GET', `/${encodeURIComponent(bucket)}?location`);
    if (exists.status >= 300) {
      req.resume();
      return reply(res, exists);
    }
    if (req.method === 'PUT') {
      const configuration = (await readBody(req, MAX_CONFIGURATION_BYTES)).toString('utf8').replace(/^\s*<\?xml[^?]*\?>\s*/, '');
      const rules = parseLifecycleConfiguration(configuration);
      this.configurations.set(bucket, { configuration, rules });
      await this.save();
      res.writeHead(200, { 'content-length': '0' });
      return void res.end();
    }
    req.resume();
    if (req.method === 'DELETE') {
      await this.forget(bucket);
      res.writeHead(204);
      return void res.end();
    }
    const stored = this.configurations.get(bucket);
    if (!stored) throw new S3Failure(404, 'NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist', { BucketName: bucket });
    sendXml(res, 200, stored.configuration);
  }

  /** Drops the bucket's rules (DeleteBucketLifecycle, or the bucket was deleted). */
  async forget(bucket: string): Promise<void> {
    if (this.configurations.delete(bucket)) await this.save();
  }

  /** Starts sweeping every `sweepIntervalMs` (each sweep waits for the one before). */
  start(): void {
    this.stopped = false;
    const tick = () => {
      this.sweeping = this.sweep().then(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.options.sweepIntervalMs).unref();
      });
    };
    this.timer = setTimeout(tick, this.options.sweepIntervalMs).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.sweeping;
    await this.saving.catch(() => undefined);
  }

  /** One pass over every bucket with rules. Never throws: what fails is reported and tried again next time. */
  async sweep(): Promise<void> {
    for (const [bucket, { rules }] of [...this.configurations]) {
      if (this.stopped) return;
      const enabled = rules.filter((rule) => rule.enabled);
      try {
        const aborting = enabled.filter((rule) => rule.abortAfterDays !== undefined);
        if (aborting.length > 0) await this.abortStaleUploads(bucket, aborting);
        const expiring = enabled.filter((rule) => rule.expirationDays !== undefined || rule.expirationDateMs !== undefined);
        if (expiring.length > 0) await this.expireObjects(bucket, expiring);
        this.reported.delete(bucket);
      } catch (error) {
        this.report(bucket, `sweeping ${bucket} failed: ${(error as Error).message}`);
      }
    }
  }

  private isDue(rule: LifecycleRule, lastModifiedMs: number, now: number): boolean {
    if (rule.expirationDateMs !== undefined && now >= rule.expirationDateMs) return true;
    return rule.expirationDays !== undefined && now - lastModifiedMs >= rule.expirationDays * this.dayMs;
  }

  private async abortStaleUploads(bucket: string, rules: readonly LifecycleRule[]): Promise<void> {
    const isDue = (upload: Upload) =>
      rules.some((rule) => upload.key.startsWith(rule.prefix) && Date.now() - upload.initiatedMs >= rule.abortAfterDays! * this.dayMs);
    for (const upload of await this.options.multipart.listUploads(bucket)) {
      if (this.stopped) return;
      if (isDue(upload)) await this.options.multipart.abortIf(bucket, upload.uploadId, isDue);
    }
  }

  private async expireObjects(bucket: string, rules: readonly LifecycleRule[]): Promise<void> {
    for await (const object of this.listObjects(bucket, commonPrefix(rules.map((rule) => rule.prefix)))) {
      if (this.stopped) return;
      // LastModified is to the second, down: the object can only be younger than it says.
      const now = Date.now();
      if (rules.some((rule) => matchesObject(rule, object.key, object.size) && this.isDue(rule, object.lastModifiedMs, now))) {
        await this.expireIfDue({ bucket, key: object.key }, rules);
      }
    }
  }

  /** Under the key's lock: judges the object as it is now, and deletes it if a rule says so. */
  private async expireIfDue(name: ObjectName, rules: readonly LifecycleRule[]): Promise<void> {
    const file = this.options.layout.resourceFile(name, 'object');
    if (!file) return;
    const release = await this.options.keyLocks.acquire(lockKeyOf(name));
    try {
      const stat = await fs.promises.stat(file).catch(() => undefined);
      if (!stat) return;
      const now = Date.now();
      let tags: Tag[] | undefined;
      let expire = false;
      for (const rule of rules) {
        if (!matchesObject(rule, name.key, stat.size) || !this.isDue(rule, stat.mtimeMs, now)) continue;
        if (rule.tags.length > 0) {
          tags ??= await readTags(this.options.layout, name);
          if (!tags || !hasTags(tags, rule.tags)) continue;
        }
        expire = true;
        break;
      }
      if (!expire) return;
      const answer = await call(this.options.s3, 'DELETE', requestPathOf(name));
      if (answer.status >= 300) throw new Error(`DeleteObject ${name.bucket}/${name.key} answered ${errorCode(answer)}`);
      await removeTags(this.options.layout, name);
    } finally {
      release();
    }
  }

  /** The bucket's objects under `prefix`, listed from s3rver a thousand at a time (ListObjects v1: v2's tokens need OpenSSL's legacy provider). */
  private async *listObjects(bucket: string, prefix: string): AsyncGenerator<ListedObject> {
    let marker = '';
    for (;;) {
      const query = new URLSearchParams({ prefix, 'max-keys': '1000', ...(marker ? { marker } : {}) });
      const answer = await call(this.options.s3, 'GET', `/${encodeURIComponent(bucket)}?${query}`);
      if (answer.status === 404) return;
      if (answer.status >= 300) throw new Error(`ListObjects ${bucket} answered ${errorCode(answer)}`);
      const root = parseXml(answer.body.toString('utf8'));
      const objects = childrenNamed(root, 'Contents').map((contents) => ({
        key: childRawText(contents, 'Key') ?? '',
        size: Number(childText(contents, 'Size') ?? 0),
        lastModifiedMs: Date.parse(childText(contents, 'LastModified') ?? ''),
      }));
      yield* objects;
      if (childText(root, 'IsTruncated') !== 'true' || objects.length === 0) return;
      marker = objects[objects.length - 1]!.key;
    }
  }
}
