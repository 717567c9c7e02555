/**
 * Where deliveries live (the data bucket): tarballs written by multipart upload, so nothing half-made is
 * ever an object; the index that lets a later request re-use a recent tarball; the manifest, README and
 * download token that publish a delivery; the retention tag that the lifecycle rule expires by.
 * Implementations throw `StorageUnavailableError` when the store does not answer.
 */
import type { DeliveryManifest } from '../domain/delivery';

export interface UploadedPart {
  readonly partNumber: number;
  readonly etag: string;
  readonly size: number;
}

/** A tarball of an earlier delivery that a new request may copy instead of calibrating again. */
export interface StagedTarball {
  readonly key: string;
  readonly bytes: number;
  readonly sha256: string;
  /** ISO 8601, UTC: when its delivery was published. */
  readonly stagedAt: string;
}

/** What the download endpoint finds for a token. */
export type DeliveryLookup =
  | { readonly state: 'unknown' }
  /** The token was issued, but its delivery is gone (the lifecycle rule removes the manifest with it). */
  | { readonly state: 'removed'; readonly requestId: string }
  | {
      readonly state: 'published';
      readonly manifest: DeliveryManifest;
      readonly kept: boolean;
      /** False when a tarball is missing or has another size than published. */
      readonly complete: boolean;
    };

export interface DeliveryStore {
  /**
   * The multipart upload of `key` still in progress, or a new one, tagged so the lifecycle rule expires the
   * object with its delivery. A step that died before it could report its upload id finds it again here, so
   * its parts are resumed rather than uploaded anew.
   */
  openUpload(key: string): Promise<string>;
  /** The parts uploaded so far, by part number. */
  listParts(key: string, uploadId: string): Promise<UploadedPart[]>;
  uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer): Promise<UploadedPart>;
  /** Server-side copy of `sourceKey`'s bytes `first`..`last` (inclusive) as one part. */
  copyPart(key: string, uploadId: string, partNumber: number, sourceKey: string, first: number, last: number): Promise<UploadedPart>;
  /** Makes the object visible; returns its size. */
  completeUpload(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<number>;
  /**
   * The size of `key` if it is already a complete object (a step that completed its upload died before it
   * could say so), after making sure it is tagged and its upload forgotten; undefined otherwise.
   */
  completedSize(key: string): Promise<number | undefined>;
  /** Discards the parts; nothing of the upload remains, and the next {@link openUpload} starts afresh. Idempotent. */
  abortUpload(key: string, uploadId: string): Promise<void>;
  /** Server-side copy in one request (up to 5 GB), tagged like an upload. */
  copyObject(sourceKey: string, key: string): Promise<void>;

  /** The newest tarball of `executionBlock` with this field selection, published after `stagedAfter`, still there. */
  findStaged(executionBlock: string, selectionKey: string, stagedAfter: Date): Promise<StagedTarball | undefined>;
  /**
   * Publishes a delivery whose tarballs are all complete: its README, its manifest, an index entry per
   * tarball (for re-use) and the token record. Idempotent.
   */
  publish(manifest: DeliveryManifest, readme: string, selectionKey: string): Promise<void>;
  /** The published manifest of a request, if any (a retried publish keeps the first token and date). */
  readManifest(requestId: string): Promise<DeliveryManifest | undefined>;
  /** For the download endpoint: the delivery behind a token, whether it is kept and whether all its files remain. */
  lookupToken(token: string): Promise<DeliveryLookup>;
  /** A presigned GET of one file of a delivery, valid `seconds`, offered to browsers under `fileName`. */
  presignDownload(key: string, seconds: number, fileName: string): Promise<string>;
  /** The seed's `.donotremove`: a kept delivery is exempt from the lifecycle rule until released. */
  setKept(requestId: string, kept: boolean): Promise<void>;
}

/** Asked to keep or release a delivery that was never published (or has expired and gone). */
export class DeliveryNotFoundError extends Error {
  override name = 'DeliveryNotFoundError';
}
