/**
 * The DeliveryStore port on S3 (AWS, LocalStack, Ceph RGW, the local cloud's edge). Layout in the data bucket:
 *
 *   deliveries/<request id>/<EB>.ms.split.cal.tar   the tarballs
 *   deliveries/<request id>/README.txt              what the delivery is, checksums, sizes
 *   deliveries/<request id>/calms-delivery.json     the manifest, written last: a delivery exists once it does
 *   staged/<EB>/<field selection>/<request id>.json the re-use index, one entry per published tarball
 *   downloads/<token>.json                          the download link's token → request id (kept after expiry,
 *                                                   so an old link answers "expired" rather than "unknown")
 *   uploads/<tarball key>.json                      the multipart upload in progress for a tarball
 *
 * Everything of a delivery, index entries included, carries the tag `calms-retention=expire`, which the
 * bucket's lifecycle rule matches; keeping a delivery sets the tag to `kept`, so the rule no longer applies.
 * (Lifecycle filters cannot say "not kept": the rule matches the tag that keeping removes.) Tarballs are
 * tagged by PutObjectTagging once complete: Ceph RGW ignores the tags of CreateMultipartUpload and the
 * TaggingDirective of CopyObject (probed on 16.2.15), where AWS would honour both.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { isMissingObject, readJsonObject, s3Call, storageFailure } from '../aws/s3Objects';
import { type DeliveryManifest, deliveryPrefix, executionBlockOf, fieldSelectionKey, README_NAME } from '../domain/delivery';
import { StorageUnavailableError } from '../errors';
import { type DeliveryLookup, DeliveryNotFoundError, type DeliveryStore, type StagedTarball, type UploadedPart } from './DeliveryStore';

export const RETENTION_TAG = 'calms-retention';
export const RetentionValue = { Expire: 'expire', Kept: 'kept' } as const;
const EXPIRE_TAGGING = `${RETENTION_TAG}=${RetentionValue.Expire}`;

export const MANIFEST_NAME = 'calms-delivery.json';
export const STAGED_PREFIX = 'staged/';
export const DOWNLOAD_PREFIX = 'downloads/';
export const UPLOAD_PREFIX = 'uploads/';

const manifestKey = (requestId: string) => `${deliveryPrefix(requestId)}${MANIFEST_NAME}`;
const stagedKey = (executionBlock: string, selectionKey: string, requestId: string) =>
  `${STAGED_PREFIX}${executionBlock}/${selectionKey}/${requestId}.json`;
const tokenKey = (token: string) => `${DOWNLOAD_PREFIX}${token}.json`;
const uploadKey = (tarballKey: string) => `${UPLOAD_PREFIX}${tarballKey}.json`;

export class S3DeliveryStore implements DeliveryStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    /** Signs download URLs; its endpoint is the one browsers reach (the same client on AWS). */
    private readonly presigner: S3Client = s3,
  ) {}

  async openUpload(key: string): Promise<string> {
    const recorded = await readJsonObject<{ uploadId: string }>(this.s3, this.bucket, uploadKey(key));
    if (recorded) return recorded.uploadId;
    const { UploadId } = await s3Call(`start the upload of ${key}`, () =>
      this.s3.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: 'application/x-tar' })),
    );
    if (!UploadId) throw new StorageUnavailableError(`S3 started an upload of ${key} without an upload id`);
    await this.putText(uploadKey(key), JSON.stringify({ uploadId: UploadId }), 'application/json', EXPIRE_TAGGING);
    return UploadId;
  }

  async listParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    const parts: UploadedPart[] = [];
    let marker: string | undefined;
    do {
      const page = await s3Call(`list the parts of ${key}`, () =>
        this.s3.send(new ListPartsCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker })),
      );
      for (const part of page.Parts ?? []) {
        parts.push({ partNumber: part.PartNumber ?? 0, etag: part.ETag ?? '', size: part.Size ?? 0 });
      }
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (marker);
    return parts;
  }

  async uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer): Promise<UploadedPart> {
    const { ETag } = await s3Call(`upload part ${partNumber} of ${key}`, () =>
      this.s3.send(
        new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: body.length }),
      ),
    );
    return { partNumber, etag: ETag ?? '', size: body.length };
  }

  async copyPart(key: string, uploadId: string, partNumber: number, sourceKey: string, first: number, last: number): Promise<UploadedPart> {
    const { CopyPartResult } = await s3Call(`copy part ${partNumber} of ${key}`, () =>
      this.s3.send(
        new UploadPartCopyCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
          CopySource: this.copySource(sourceKey),
          CopySourceRange: `bytes=${first}-${last}`,
        }),
      ),
    );
    return { partNumber, etag: CopyPartResult?.ETag ?? '', size: last - first + 1 };
  }

  async completeUpload(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<number> {
    const ordered = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    await s3Call(`complete the upload of ${key}`, () =>
      this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: ordered.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })) },
        }),
      ),
    );
    // Ceph answers Complete with an empty ETag and no size: ask for the object itself.
    const size = await this.objectSize(key);
    if (size === undefined) throw new StorageUnavailableError(`${key} is not there after completing its upload`);
    await this.tagToExpire(key);
    await this.forgetUpload(key);
    return size;
  }

  private async forgetUpload(key: string): Promise<void> {
    await s3Call(`forget the upload of ${key}`, () => this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: uploadKey(key) })));
  }

  private async tagToExpire(key: string): Promise<void> {
    await s3Call(`tag ${key} to expire`, () =>
      this.s3.send(
        new PutObjectTaggingCommand({ Bucket: this.bucket, Key: key, Tagging: { TagSet: [{ Key: RETENTION_TAG, Value: RetentionValue.Expire }] } }),
      ),
    );
  }

  async completedSize(key: string): Promise<number | undefined> {
    const size = await this.objectSize(key);
    if (size === undefined) return undefined;
    await this.tagToExpire(key);
    await this.forgetUpload(key);
    return size;
  }

  async abortUpload(key: string, uploadId: string): Promise<void> {
    try {
      await this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }));
    } catch (error) {
      if ((error as Error).name !== 'NoSuchUpload' && !isMissingObject(error)) throw storageFailure(`abort the upload of ${key}`, error);
    }
    await this.forgetUpload(key);
  }

  async copyObject(sourceKey: string, key: string): Promise<void> {
    await s3Call(`copy ${sourceKey} to ${key}`, () =>
      this.s3.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: key,
          CopySource: this.copySource(sourceKey),
        }),
      ),
    );
    // The copy has its own expiry clock and expires even when its source is kept.
    await this.tagToExpire(key);
  }

  async findStaged(executionBlock: string, selectionKey: string, stagedAfter: Date): Promise<StagedTarball | undefined> {
    const keys = await this.listKeys(`${STAGED_PREFIX}${executionBlock}/${selectionKey}/`);
    const entries = await Promise.all(keys.map((key) => readJsonObject<StagedTarball>(this.s3, this.bucket, key)));
    const candidates = entries
      .filter((entry): entry is StagedTarball => entry !== undefined && Date.parse(entry.stagedAt) > stagedAfter.getTime())
      .sort((a, b) => Date.parse(b.stagedAt) - Date.parse(a.stagedAt));
    for (const candidate of candidates) {
      if ((await this.objectSize(candidate.key)) === candidate.bytes) return candidate;
    }
    return undefined;
  }

  async publish(manifest: DeliveryManifest, readme: string, selectionKey: string): Promise<void> {
    const prefix = deliveryPrefix(manifest.requestId);
    await this.putText(`${prefix}${README_NAME}`, readme, 'text/plain; charset=utf-8', EXPIRE_TAGGING);
    await Promise.all(
      manifest.tarballs.map((tarball) => {
        const entry: StagedTarball = { key: `${prefix}${tarball.name}`, bytes: tarball.bytes, sha256: tarball.sha256, stagedAt: manifest.stagedAt };
        return this.putText(
          stagedKey(executionBlockOf(tarball.name), selectionKey, manifest.requestId),
          JSON.stringify(entry),
          'application/json',
          EXPIRE_TAGGING,
        );
      }),
    );
    await this.putText(tokenKey(manifest.token), JSON.stringify({ requestId: manifest.requestId }), 'application/json');
    // Last: the manifest is what makes the delivery exist for the download page.
    await this.putText(manifestKey(manifest.requestId), JSON.stringify(manifest, null, 2), 'application/json', EXPIRE_TAGGING);
  }

  readManifest(requestId: string): Promise<DeliveryManifest | undefined> {
    return readJsonObject<DeliveryManifest>(this.s3, this.bucket, manifestKey(requestId));
  }

  async lookupToken(token: string): Promise<DeliveryLookup> {
    const record = await readJsonObject<{ requestId: string }>(this.s3, this.bucket, tokenKey(token));
    if (!record) return { state: 'unknown' };
    const manifest = await this.readManifest(record.requestId);
    if (!manifest) return { state: 'removed', requestId: record.requestId };
    const prefix = deliveryPrefix(manifest.requestId);
    const [tags, sizes] = await Promise.all([
      this.tagsOf(manifestKey(manifest.requestId)),
      Promise.all(manifest.tarballs.map((tarball) => this.objectSize(`${prefix}${tarball.name}`))),
    ]);
    // The lifecycle rule removed the manifest between the two reads.
    if (!tags) return { state: 'removed', requestId: record.requestId };
    const kept = tags.some((tag) => tag.Key === RETENTION_TAG && tag.Value === RetentionValue.Kept);
    const complete = sizes.every((size, index) => size === manifest.tarballs[index]!.bytes);
    return { state: 'published', manifest, kept, complete };
  }

  /** The object's tags, or undefined when it is gone. */
  private async tagsOf(key: string): Promise<{ Key?: string; Value?: string }[] | undefined> {
    try {
      const { TagSet = [] } = await this.s3.send(new GetObjectTaggingCommand({ Bucket: this.bucket, Key: key }));
      return TagSet;
    } catch (error) {
      if (isMissingObject(error)) return undefined;
      throw storageFailure(`read the tags of ${key}`, error);
    }
  }

  presignDownload(key: string, seconds: number, fileName: string): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ResponseContentDisposition: `attachment; filename="${fileName.replace(/["\\]/g, '_')}"`,
    });
    return getSignedUrl(this.presigner, command, { expiresIn: seconds });
  }

  async setKept(requestId: string, kept: boolean): Promise<void> {
    const manifest = await this.readManifest(requestId);
    if (!manifest) throw new DeliveryNotFoundError(`no delivery was published for request ${requestId}`);
    const selection = fieldSelectionKey(manifest.calibratorFields);
    const keys = [
      ...(await this.listKeys(deliveryPrefix(requestId))),
      ...manifest.tarballs.map((tarball) => stagedKey(executionBlockOf(tarball.name), selection, requestId)),
    ];
    const value = kept ? RetentionValue.Kept : RetentionValue.Expire;
    // The manifest last: it is what the download page reads the state from.
    const ordered = [...keys.filter((key) => key !== manifestKey(requestId)), manifestKey(requestId)];
    for (const key of ordered) {
      await s3Call(`tag ${key} ${value}`, () =>
        this.s3.send(new PutObjectTaggingCommand({ Bucket: this.bucket, Key: key, Tagging: { TagSet: [{ Key: RETENTION_TAG, Value: value }] } })),
      );
    }
  }

  async objectSize(key: string): Promise<number | undefined> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return head.ContentLength;
    } catch (error) {
      if (isMissingObject(error)) return undefined;
      throw storageFailure(`look at ${key}`, error);
    }
  }

  private copySource(key: string): string {
    return `${this.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  private async listKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3Call(`list ${prefix}`, () =>
        this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })),
      );
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  private async putText(key: string, text: string, contentType: string, tagging?: string): Promise<void> {
    await s3Call(`write ${key}`, () =>
      this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: text, ContentType: contentType, Tagging: tagging })),
    );
  }
}
