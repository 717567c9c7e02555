/**
 * Object tags as S3 has them. The edge keeps them itself, in s3rver's tag file for the object
 * (`<key>._S3rver_tagging.xml`, see layout.ts), and answers GetObjectTagging, PutObjectTagging and
 * DeleteObjectTagging itself, under the key's lock: s3rver 3.7.1 passes tags through fast-xml-parser with
 * number parsing and trimming on, so it answers a tag `007` as `7`, `1.50` as `1.5` and ` a ` as `a` (and
 * lifecycle rules would no longer match them), it writes `&` and `<` unescaped, and it has no
 * DeleteObjectTagging.
 *
 * - given at creation: the `x-amz-tagging` header (`k=v&k2=v2`, URL-encoded, as the AWS SDK sends for
 *   `Tagging`) of PutObject, CreateMultipartUpload (applied when the upload completes) and CopyObject with
 *   `x-amz-tagging-directive: REPLACE`; CopyObject without it (or with COPY) copies the source's tags.
 * - replaced by every write of the object: a PutObject, CompleteMultipartUpload or CopyObject that gives no tags
 *   leaves the object with none, and DeleteObject removes them. s3rver keeps the tag file across both (an
 *   object deleted and written again got its old tags back), so the edge removes it.
 *
 * The edge sets the tags after s3rver has written the object, while still holding the key's lock, so no reader
 * sees the object without its tags. Tags are checked as S3 checks them, before anything is written: at most 10
 * tags, keys of 1 to 128 characters, values of at most 256, no key twice (InvalidTag or InvalidArgument).
 * Not checked: the characters allowed in tags. Not given: the `x-amz-tagging-count` header of GetObject.
 */
import fs from 'node:fs';
import { S3Failure } from './http';
import type { ObjectName, S3rverLayout } from './layout';
import { childrenNamed, childNamed, childRawText, escapeXml, parseXml } from './xml';

export interface Tag {
  readonly Key: string;
  readonly Value: string;
}

export const MAX_TAGS = 10;

/** Checks tags the way S3 checks them at creation and in PutObjectTagging. */
export function checkTags(tags: readonly Tag[]): void {
  if (tags.length > MAX_TAGS) throw new S3Failure(400, 'InvalidTag', `Object tags cannot be greater than ${MAX_TAGS}`);
  const seen = new Set<string>();
  for (const { Key, Value } of tags) {
    if ([...Key].length < 1 || [...Key].length > 128)
      throw new S3Failure(400, 'InvalidTag', 'The TagKey you have provided is invalid', { TagKey: Key });
    if ([...Value].length > 256) throw new S3Failure(400, 'InvalidTag', 'The TagValue you have provided is too long, max 256', { TagKey: Key });
    if (seen.has(Key)) throw new S3Failure(400, 'InvalidTag', 'Cannot provide multiple Tags with the same key', { TagKey: Key });
    seen.add(Key);
  }
}

/** The tags of an `x-amz-tagging` header; undefined when there is no header. */
export function parseTaggingHeader(header: string | string[] | undefined): Tag[] | undefined {
  if (header === undefined) return undefined;
  if (Array.isArray(header)) {
    throw new S3Failure(400, 'InvalidArgument', "The header 'x-amz-tagging' may be given only once.", { ArgumentName: 'x-amz-tagging' });
  }
  const tags: Tag[] = [];
  for (const pair of header.split('&')) {
    if (pair === '') continue;
    const [key, value = ''] = new URLSearchParams(pair).entries().next().value ?? ['', ''];
    tags.push({ Key: key, Value: value });
  }
  const keys = tags.map((tag) => tag.Key);
  if (new Set(keys).size !== keys.length) {
    throw new S3Failure(
      400,
      'InvalidArgument',
      "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
      { ArgumentName: 'x-amz-tagging', ArgumentValue: header },
    );
  }
  checkTags(tags);
  return tags;
}

export function taggingXml(tags: readonly Tag[]): string {
  const tagSet = tags.map((tag) => `<Tag><Key>${escapeXml(tag.Key)}</Key><Value>${escapeXml(tag.Value)}</Value></Tag>`).join('');
  return `<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>${tagSet}</TagSet></Tagging>`;
}

export function parseTagSet(xml: string): Tag[] {
  const root = parseXml(xml);
  const tagSet = childNamed(root, 'TagSet');
  if (!tagSet) return [];
  return childrenNamed(tagSet, 'Tag').map((tag) => ({ Key: childRawText(tag, 'Key') ?? '', Value: childRawText(tag, 'Value') ?? '' }));
}

/** Whether the object exists (its tags are only read and set for an existing object). */
export async function objectExists(layout: S3rverLayout, name: ObjectName): Promise<boolean> {
  const file = layout.resourceFile(name, 'object');
  return (
    file !== undefined &&
    (await fs.promises.stat(file).then(
      (stat) => stat.isFile(),
      () => false,
    ))
  );
}

/** The object's tags; undefined when there is no such object. Call with the key's lock held. */
export async function readTags(layout: S3rverLayout, name: ObjectName): Promise<Tag[] | undefined> {
  if (!(await objectExists(layout, name))) return undefined;
  const file = layout.resourceFile(name, 'tagging.xml')!;
  const xml = await fs.promises.readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  return xml === undefined ? [] : parseTagSet(xml);
}

/** Removes the object's tag file, which s3rver keeps when an object is replaced or deleted. */
export async function removeTags(layout: S3rverLayout, name: ObjectName): Promise<void> {
  const file = layout.resourceFile(name, 'tagging.xml');
  if (file) await fs.promises.rm(file, { force: true });
}

/** Gives an existing object exactly `tags` (none: no tag file). Call with the key's lock held. */
export async function setTags(layout: S3rverLayout, name: ObjectName, tags: readonly Tag[]): Promise<void> {
  const file = layout.resourceFile(name, 'tagging.xml');
  if (!file) throw new Error(`no tag file for ${name.bucket}/${name.key}`);
  if (tags.length === 0) return removeTags(layout, name);
  const temporary = `${file}.${process.pid}.tmp`;
  await fs.promises.writeFile(temporary, taggingXml(tags));
  await fs.promises.rename(temporary, file);
}

/** Whether `tags` has every one of `required` (key and value). */
export const hasTags = (tags: readonly Tag[], required: readonly Tag[]): boolean =>
  required.every((wanted) => tags.some((tag) => tag.Key === wanted.Key && tag.Value === wanted.Value));
