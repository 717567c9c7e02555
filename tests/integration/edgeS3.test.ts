/**
 * What the edge adds to s3rver (localstack/s3): tags given at creation, ListParts, AbortMultipartUpload,
 * UploadPartCopy and bucket lifecycle rules, driven with the AWS SDK as CalMS drives S3.
 *
 * Self-contained: it starts s3rver (as localstack/cloud.ts does) and the edge on ports of its own, in a
 * temporary directory, with a lifecycle "day" of one second. It needs no shared local cloud, and runs in a jest
 * project without the integration globalSetup (see jest.config.js).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketLifecycleCommand,
  DeleteObjectTaggingCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  type LifecycleRule,
  ListPartsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  type Tag,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3rverArguments } from '../../localstack/cloud';
import { type Edge, startEdge } from '../../localstack/edge';
import { eventually } from './support/eventually';

const HOST = '127.0.0.1';
const S3RVER_PORT = 19541;
const EDGE_PORT = 19542;
/** Nothing listens here: these tests make no Step Functions calls. */
const STEP_FUNCTIONS_PORT = 19543;
const LIFECYCLE_DAY_SECONDS = 1;
const MiB = 1024 * 1024;

const OBJECTS = 'edge-objects';
const RULES = 'edge-lifecycle-rules';
const EXPIRING = 'edge-lifecycle-expiry';

let workDir: string;
let s3rver: ChildProcess;
let edge: Edge;
let client: S3Client;

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, HOST);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

const startTestEdge = () =>
  startEdge({
    port: EDGE_PORT,
    host: HOST,
    s3: { host: HOST, port: S3RVER_PORT, directory: path.join(workDir, 's3') },
    stepFunctions: { host: HOST, port: STEP_FUNCTIONS_PORT },
    stateDir: workDir,
    lifecycleDaySeconds: LIFECYCLE_DAY_SECONDS,
    sweepIntervalMs: 100,
  });

const byKey = (tags: Tag[] | undefined) => [...(tags ?? [])].sort((a, b) => a.Key!.localeCompare(b.Key!));
const tagsOf = async (Bucket: string, Key: string) => byKey((await client.send(new GetObjectTaggingCommand({ Bucket, Key }))).TagSet);
const bytesOf = async (Bucket: string, Key: string) =>
  Buffer.from(await (await client.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToByteArray());
const exists = (Bucket: string, Key: string) =>
  client.send(new HeadObjectCommand({ Bucket, Key })).then(
    () => true,
    (error: Error) => {
      if (error.name === 'NotFound') return false;
      throw error;
    },
  );
const quotedMd5 = (data: Buffer) => `"${createHash('md5').update(data).digest('hex')}"`;
const s3ErrorOf = (name: string, httpStatusCode: number) => expect.objectContaining({ name, $metadata: expect.objectContaining({ httpStatusCode }) });

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'calms-edge-s3-'));
  fs.mkdirSync(path.join(workDir, 's3'));
  for (const port of [S3RVER_PORT, EDGE_PORT]) {
    if (await accepts(port)) throw new Error(`port ${port} is in use: is an earlier run of this test still around?`);
  }
  s3rver = spawn(process.execPath, s3rverArguments(path.join(workDir, 's3'), HOST, S3RVER_PORT), { stdio: 'ignore' });
  await eventually(
    async () => {
      if (s3rver.exitCode !== null) throw new Error(`s3rver exited with code ${s3rver.exitCode}`);
      return (await accepts(S3RVER_PORT)) || undefined;
    },
    's3rver to listen',
    30_000,
  );
  edge = await startTestEdge();
  client = new S3Client({
    endpoint: edge.url,
    forcePathStyle: true,
    region: 'us-east-1',
    // LocalStack's customary key, which s3rver itself does not know: the edge lets it through.
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    // As lib/aws/clients.ts: s3rver stores a streamed body with the SDK's default CRC32 trailer corrupted.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  for (const Bucket of [OBJECTS, RULES, EXPIRING]) await client.send(new CreateBucketCommand({ Bucket }));
});

afterAll(async () => {
  client?.destroy();
  await edge?.close();
  if (s3rver && s3rver.exitCode === null && s3rver.signalCode === null) {
    const exited = new Promise((resolve) => s3rver.once('exit', resolve));
    s3rver.kill('SIGTERM');
    await exited;
  }
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

describe('any access key, as on LocalStack', () => {
  const clientWith = (endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
    new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials, requestChecksumCalculation: 'WHEN_REQUIRED' });
  const REAL_LOOKING = {
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    sessionToken: 'FwoGZXIvYXdzEXAMPLE',
  };

  test('s3rver itself refuses a key other than its own; through the edge a real-looking key with a session token writes and reads', async () => {
    // Prepare
    const direct = clientWith(`http://${HOST}:${S3RVER_PORT}`, REAL_LOOKING);
    const viaEdge = clientWith(edge.url, REAL_LOOKING);

    // Act
    const refused = await direct.send(new GetObjectCommand({ Bucket: OBJECTS, Key: 'credentials/absent' })).catch((error: Error) => error);
    await viaEdge.send(new PutObjectCommand({ Bucket: OBJECTS, Key: 'credentials/real-looking', Body: "written with someone else's key" }));
    const read = await (await viaEdge.send(new GetObjectCommand({ Bucket: OBJECTS, Key: 'credentials/real-looking' }))).Body!.transformToString();

    // Assess
    expect(refused).toMatchObject({ name: 'InvalidAccessKeyId' });
    expect(read).toBe("written with someone else's key");
    direct.destroy();
    viaEdge.destroy();
  });

  test('a URL presigned with another key, asking for a Content-Disposition, is served as asked; so is an unsigned GET', async () => {
    // Prepare
    await client.send(new PutObjectCommand({ Bucket: OBJECTS, Key: 'credentials/presigned', Body: 'presigned body' }));
    const signer = clientWith(edge.url, { accessKeyId: 'some-other-key', secretAccessKey: 'some-other-secret' });
    const url = await getSignedUrl(
      signer,
      new GetObjectCommand({ Bucket: OBJECTS, Key: 'credentials/presigned', ResponseContentDisposition: 'attachment; filename="x.txt"' }),
      {
        expiresIn: 60,
      },
    );

    // Act
    const presigned = await fetch(url);
    const unsigned = await fetch(`${edge.url}/${OBJECTS}/credentials/presigned`);

    // Assess
    expect([presigned.status, presigned.headers.get('content-disposition'), await presigned.text()]).toEqual([
      200,
      'attachment; filename="x.txt"',
      'presigned body',
    ]);
    expect([unsigned.status, await unsigned.text()]).toEqual([200, 'presigned body']);
    signer.destroy();
  });
});

describe('tags given at creation', () => {
  test('PutObject with Tagging stores exactly those tags; a later PutObject without Tagging leaves none', async () => {
    // Prepare
    const Key = 'put/tagged';

    // Act
    await client.send(new PutObjectCommand({ Bucket: OBJECTS, Key, Body: 'v1', Tagging: 'calms-retention=expire&version=007&note=a%20%26%20b' }));
    const tagged = await tagsOf(OBJECTS, Key);
    await client.send(new PutObjectCommand({ Bucket: OBJECTS, Key, Body: 'v2' }));
    const replaced = await tagsOf(OBJECTS, Key);

    // Assess
    expect(tagged).toEqual([
      { Key: 'calms-retention', Value: 'expire' },
      { Key: 'note', Value: 'a & b' },
      { Key: 'version', Value: '007' },
    ]);
    expect(replaced).toEqual([]);
  });

  test('a GetObjectTagging that comes during a tagged PutObject sees the tags or no object, never the object without its tags', async () => {
    for (let round = 0; round < 5; round++) {
      // Prepare
      const Key = `put/raced-${round}`;
      const reads: Promise<Tag[]>[] = [];

      // Act
      let written = false;
      const put = client
        .send(new PutObjectCommand({ Bucket: OBJECTS, Key, Body: randomBytes(4 * MiB), Tagging: 'calms-retention=expire' }))
        .finally(() => (written = true));
      while (!written) {
        reads.push(tagsOf(OBJECTS, Key));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      await put;
      reads.push(tagsOf(OBJECTS, Key));
      const outcomes = await Promise.allSettled(reads);

      // Assess
      for (const outcome of outcomes) {
        if (outcome.status === 'fulfilled') expect(outcome.value).toEqual([{ Key: 'calms-retention', Value: 'expire' }]);
        else expect(outcome.reason).toEqual(s3ErrorOf('NoSuchKey', 404));
      }
      expect(outcomes[outcomes.length - 1]!.status).toBe('fulfilled');
    }
  });

  test('of concurrent tagged PutObject with If-None-Match * to one new key, exactly one wins, with its body and its tags', async () => {
    // Prepare
    const Key = 'put/claimed';
    const writers = Array.from({ length: 8 }, (_, writer) => writer);

    // Act
    const outcomes = await Promise.allSettled(
      writers.map((writer) =>
        client.send(new PutObjectCommand({ Bucket: OBJECTS, Key, Body: `writer ${writer}`, IfNoneMatch: '*', Tagging: `writer=${writer}` })),
      ),
    );

    // Assess
    const winners = writers.filter((writer) => outcomes[writer]!.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    for (const outcome of outcomes) if (outcome.status === 'rejected') expect(outcome.reason).toEqual(s3ErrorOf('PreconditionFailed', 412));
    expect((await bytesOf(OBJECTS, Key)).toString()).toBe(`writer ${winners[0]}`);
    expect(await tagsOf(OBJECTS, Key)).toEqual([{ Key: 'writer', Value: String(winners[0]) }]);
  });

  test("tags given at CreateMultipartUpload are the completed object's tags", async () => {
    // Prepare
    const Key = 'multipart/tagged';
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: OBJECTS, Key, Tagging: 'calms-retention=expire&made=multipart' }),
    );
    const first = await client.send(new UploadPartCommand({ Bucket: OBJECTS, Key, UploadId, PartNumber: 1, Body: 'hello ' }));
    const second = await client.send(new UploadPartCommand({ Bucket: OBJECTS, Key, UploadId, PartNumber: 2, Body: 'world' }));

    // Act
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: OBJECTS,
        Key,
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: first.ETag },
            { PartNumber: 2, ETag: second.ETag },
          ],
        },
      }),
    );

    // Assess
    expect((await bytesOf(OBJECTS, Key)).toString()).toBe('hello world');
    expect(await tagsOf(OBJECTS, Key)).toEqual([
      { Key: 'calms-retention', Value: 'expire' },
      { Key: 'made', Value: 'multipart' },
    ]);
  });

  test("CopyObject copies the source's tags, or with TaggingDirective REPLACE gives the ones in Tagging (or none)", async () => {
    // Prepare
    const source = 'copy/source';
    await client.send(new PutObjectCommand({ Bucket: OBJECTS, Key: source, Body: 'copied', Tagging: 'origin=source&calms-retention=expire' }));
    await client.send(new PutObjectCommand({ Bucket: OBJECTS, Key: 'copy/replaced-untagged', Body: 'old', Tagging: 'stale=yes' }));
    const CopySource = `${OBJECTS}/${source}`;

    // Act
    await client.send(new CopyObjectCommand({ Bucket: OBJECTS, Key: 'copy/default', CopySource }));
    await client.send(new CopyObjectCommand({ Bucket: OBJECTS, Key: 'copy/copy', CopySource, TaggingDirective: 'COPY' }));
    await client.send(
      new CopyObjectCommand({ Bucket: OBJECTS, Key: 'copy/replaced', CopySource, TaggingDirective: 'REPLACE', Tagging: 'origin=copy' }),
    );
    await client.send(new CopyObjectCommand({ Bucket: OBJECTS, Key: 'copy/replaced-untagged', CopySource, TaggingDirective: 'REPLACE' }));

    // Assess
    const sourceTags = [
      { Key: 'calms-retention', Value: 'expire' },
      { Key: 'origin', Value: 'source' },
    ];
    expect(await tagsOf(OBJECTS, 'copy/default')).toEqual(sourceTags);
    expect(await tagsOf(OBJECTS, 'copy/copy')).toEqual(sourceTags);
    expect(await tagsOf(OBJECTS, 'copy/replaced')).toEqual([{ Key: 'origin', Value: 'copy' }]);
    expect(await tagsOf(OBJECTS, 'copy/replaced-untagged')).toEqual([]);
    expect((await bytesOf(OBJECTS, 'copy/replaced-untagged')).toString()).toBe('copied');
  });

  test('PutObjectTagging and DeleteObjectTagging replace and remove the tags, values kept exactly', async () => {
    // Prepare
    const Key = 'tagging/replaced';
    await client.send(new PutObjectCommand({ Bucket: OBJECTS, Key, Body: 'x', Tagging: 'first=1' }));

    // Act
    await client.send(
      new PutObjectTaggingCommand({
        Bucket: OBJECTS,
        Key,
        Tagging: {
          TagSet: [
            { Key: 'ratio', Value: '1.50' },
            { Key: 'padded', Value: ' a<b ' },
          ],
        },
      }),
    );
    const replaced = await tagsOf(OBJECTS, Key);
    await client.send(new DeleteObjectTaggingCommand({ Bucket: OBJECTS, Key }));
    const removed = await tagsOf(OBJECTS, Key);

    // Assess
    expect(replaced).toEqual([
      { Key: 'padded', Value: ' a<b ' },
      { Key: 'ratio', Value: '1.50' },
    ]);
    expect(removed).toEqual([]);
  });

  test('tags S3 would refuse are refused before anything is written', async () => {
    // Prepare
    const Key = 'put/too-many-tags';
    const eleven = Array.from({ length: 11 }, (_, index) => `tag${index}=x`).join('&');

    // Act
    const put = await client
      .send(new PutObjectCommand({ Bucket: OBJECTS, Key, Body: 'never stored', Tagging: eleven }))
      .catch((error: Error) => error);
    const upload = await client
      .send(new CreateMultipartUploadCommand({ Bucket: OBJECTS, Key, Tagging: 'same=1&same=2' }))
      .catch((error: Error) => error);

    // Assess
    expect(put).toEqual(s3ErrorOf('InvalidTag', 400));
    expect(upload).toEqual(s3ErrorOf('InvalidArgument', 400));
    expect(await exists(OBJECTS, Key)).toBe(false);
  });
});

describe('multipart uploads', () => {
  test('ListParts lists the parts with the sizes and ETags that complete the upload, in pages', async () => {
    // Prepare
    const Key = 'multipart/listed';
    const data = [randomBytes(5 * MiB), randomBytes(1234)];
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: OBJECTS, Key }));
    const etags: string[] = [];
    for (const [index, Body] of data.entries()) {
      etags.push((await client.send(new UploadPartCommand({ Bucket: OBJECTS, Key, UploadId, PartNumber: index + 1, Body }))).ETag!);
    }

    // Act
    const all = await client.send(new ListPartsCommand({ Bucket: OBJECTS, Key, UploadId }));
    const firstPage = await client.send(new ListPartsCommand({ Bucket: OBJECTS, Key, UploadId, MaxParts: 1 }));
    const secondPage = await client.send(
      new ListPartsCommand({ Bucket: OBJECTS, Key, UploadId, MaxParts: 1, PartNumberMarker: firstPage.NextPartNumberMarker }),
    );
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: OBJECTS,
        Key,
        UploadId,
        MultipartUpload: { Parts: all.Parts!.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
      }),
    );
    const afterCompletion = await client.send(new ListPartsCommand({ Bucket: OBJECTS, Key, UploadId })).catch((error: Error) => error);

    // Assess
    const expected = data.map((part, index) => ({ PartNumber: index + 1, Size: part.length, ETag: etags[index] }));
    expect(etags).toEqual(data.map(quotedMd5));
    expect(all.Parts!.map(({ PartNumber, Size, ETag }) => ({ PartNumber, Size, ETag }))).toEqual(expected);
    expect(all.Parts!.every((part) => part.LastModified instanceof Date && !Number.isNaN(part.LastModified.getTime()))).toBe(true);
    expect(all).toMatchObject({ Bucket: OBJECTS, Key, UploadId, IsTruncated: false });
    expect(firstPage).toMatchObject({ IsTruncated: true, NextPartNumberMarker: '1', Parts: [expect.objectContaining(expected[0])] });
    expect(secondPage).toMatchObject({ IsTruncated: false, Parts: [expect.objectContaining(expected[1])] });
    expect((await bytesOf(OBJECTS, Key)).equals(Buffer.concat(data))).toBe(true);
    expect(afterCompletion).toEqual(s3ErrorOf('NoSuchUpload', 404));
  });

  test('AbortMultipartUpload removes the upload: from then on its id is NoSuchUpload, as is an id never given', async () => {
    // Prepare
    const Key = 'multipart/aborted';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: OBJECTS, Key }));
    const part = await client.send(new UploadPartCommand({ Bucket: OBJECTS, Key, UploadId, PartNumber: 1, Body: 'abandoned' }));

    // Act
    const aborted = await client.send(new AbortMultipartUploadCommand({ Bucket: OBJECTS, Key, UploadId }));

    // Assess
    expect(aborted.$metadata.httpStatusCode).toBe(204);
    const NO_SUCH_UPLOAD = s3ErrorOf('NoSuchUpload', 404);
    await expect(client.send(new ListPartsCommand({ Bucket: OBJECTS, Key, UploadId }))).rejects.toEqual(NO_SUCH_UPLOAD);
    await expect(client.send(new UploadPartCommand({ Bucket: OBJECTS, Key, UploadId, PartNumber: 2, Body: 'late' }))).rejects.toEqual(NO_SUCH_UPLOAD);
    await expect(
      client.send(
        new CompleteMultipartUploadCommand({ Bucket: OBJECTS, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }),
      ),
    ).rejects.toEqual(NO_SUCH_UPLOAD);
    await expect(client.send(new AbortMultipartUploadCommand({ Bucket: OBJECTS, Key, UploadId }))).rejects.toEqual(NO_SUCH_UPLOAD);
    await expect(client.send(new ListPartsCommand({ Bucket: OBJECTS, Key, UploadId: 'deadbeef0123456789' }))).rejects.toEqual(NO_SUCH_UPLOAD);
    expect(await exists(OBJECTS, Key)).toBe(false);
  });

  test('UploadPartCopy copies byte ranges of other objects into parts: the object is the slices, byte for byte', async () => {
    // Prepare
    const big = randomBytes(3 * MiB + 17);
    const small = randomBytes(1000);
    await client.send(new PutObjectCommand({ Bucket: OBJECTS, Key: 'copy-parts/big', Body: big }));
    await client.send(new PutObjectCommand({ Bucket: OBJECTS, Key: 'copy-parts/small', Body: small }));
    const Key = 'copy-parts/assembled';
    const copies = [
      { source: 'copy-parts/big', range: [0, 2 * MiB - 1] },
      { source: 'copy-parts/big', range: [2 * MiB, 3 * MiB + 16] },
      { source: 'copy-parts/small', range: undefined },
      { source: 'copy-parts/big', range: [0, 0] },
      { source: 'copy-parts/small', range: [999, 999] },
    ] as const;
    const slices = copies.map(({ source, range }) => {
      const data = source === 'copy-parts/big' ? big : small;
      return range ? data.subarray(range[0], range[1] + 1) : data;
    });
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: OBJECTS, Key }));

    // Act
    const results = [];
    for (const [index, { source, range }] of copies.entries()) {
      const copied = await client.send(
        new UploadPartCopyCommand({
          Bucket: OBJECTS,
          Key,
          UploadId,
          PartNumber: index + 1,
          CopySource: `${OBJECTS}/${source}`,
          ...(range ? { CopySourceRange: `bytes=${range[0]}-${range[1]}` } : {}),
        }),
      );
      results.push(copied.CopyPartResult!);
    }
    const listed = await client.send(new ListPartsCommand({ Bucket: OBJECTS, Key, UploadId }));
    const failed = (error: Error) => error;
    const beyondTheEnd = await client
      .send(
        new UploadPartCopyCommand({
          Bucket: OBJECTS,
          Key,
          UploadId,
          PartNumber: 9,
          CopySource: `${OBJECTS}/copy-parts/small`,
          CopySourceRange: 'bytes=500-1000',
        }),
      )
      .catch(failed);
    const missingSource = await client
      .send(new UploadPartCopyCommand({ Bucket: OBJECTS, Key, UploadId, PartNumber: 9, CopySource: `${OBJECTS}/copy-parts/none` }))
      .catch(failed);
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: OBJECTS,
        Key,
        UploadId,
        MultipartUpload: { Parts: results.map(({ ETag }, index) => ({ PartNumber: index + 1, ETag })) },
      }),
    );

    // Assess
    expect(beyondTheEnd).toEqual(s3ErrorOf('InvalidArgument', 400));
    expect(missingSource).toEqual(s3ErrorOf('NoSuchKey', 404));
    expect(results.map(({ ETag }) => ETag)).toEqual(slices.map(quotedMd5));
    expect(results.every(({ LastModified }) => LastModified instanceof Date)).toBe(true);
    expect(listed.Parts!.map(({ PartNumber, Size }) => ({ PartNumber, Size }))).toEqual(
      slices.map((slice, index) => ({ PartNumber: index + 1, Size: slice.length })),
    );
    const assembled = await bytesOf(OBJECTS, Key);
    expect(assembled.length).toBe(Buffer.concat(slices).length);
    expect(assembled.equals(Buffer.concat(slices))).toBe(true);
  });
});

describe('bucket lifecycle', () => {
  const NO_CONFIGURATION = s3ErrorOf('NoSuchLifecycleConfiguration', 404);

  test("PutBucketLifecycleConfiguration, GetBucketLifecycleConfiguration and DeleteBucketLifecycle round trip; S3's checks apply", async () => {
    // Prepare
    const Rules: LifecycleRule[] = [
      {
        ID: 'expire-deliveries',
        Status: 'Enabled',
        Filter: { And: { Prefix: 'deliveries/', Tags: [{ Key: 'calms-retention', Value: 'expire' }] } },
        Expiration: { Days: 30 },
      },
      { ID: 'abort-incomplete-uploads', Status: 'Enabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 } },
      { ID: 'by-tag', Status: 'Disabled', Filter: { Tag: { Key: 'temporary', Value: 'yes' } }, Expiration: { Days: 1 } },
    ];
    const before = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: RULES })).catch((error: Error) => error);

    // Act
    await client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: RULES, LifecycleConfiguration: { Rules } }));
    const stored = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: RULES }));
    const refused = await client
      .send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: RULES,
          LifecycleConfiguration: { Rules: [{ ID: 'zero-days', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 0 } }] },
        }),
      )
      .catch((error: Error) => error);
    const afterRefusal = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: RULES }));
    const deleted = await client.send(new DeleteBucketLifecycleCommand({ Bucket: RULES }));
    const after = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: RULES })).catch((error: Error) => error);

    // Assess
    expect(before).toEqual(NO_CONFIGURATION);
    expect(stored.Rules).toEqual(Rules);
    expect(refused).toEqual(s3ErrorOf('InvalidArgument', 400));
    expect(afterRefusal.Rules).toEqual(Rules);
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect(after).toEqual(NO_CONFIGURATION);
    await expect(client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'edge-no-such-bucket' }))).rejects.toEqual(
      s3ErrorOf('NoSuchBucket', 404),
    );
  });

  test('a bucket deleted and created again has no rules', async () => {
    // Prepare
    const Bucket = 'edge-lifecycle-recreated';
    await client.send(new CreateBucketCommand({ Bucket }));
    await client.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket,
        LifecycleConfiguration: { Rules: [{ ID: 'r', Status: 'Enabled', Filter: { Prefix: 'x/' }, Expiration: { Days: 9 } }] },
      }),
    );

    // Act
    await client.send(new DeleteBucketCommand({ Bucket }));
    await client.send(new CreateBucketCommand({ Bucket }));
    const rules = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket })).catch((error: Error) => error);

    // Assess
    expect(rules).toEqual(NO_CONFIGURATION);
  });

  test('rules survive a restart of the edge and expire what they select, and only that', async () => {
    // Prepare
    const Rules: LifecycleRule[] = [
      {
        ID: 'expire-deliveries',
        Status: 'Enabled',
        Filter: { And: { Prefix: 'deliveries/', Tags: [{ Key: 'calms-retention', Value: 'expire' }] } },
        Expiration: { Days: 1 },
      },
      { ID: 'legacy-prefix', Status: 'Enabled', Prefix: 'legacy/', Expiration: { Days: 1 } },
      {
        ID: 'abort-incomplete-uploads',
        Status: 'Enabled',
        Filter: { Prefix: 'uploads/' },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      },
      // Would expire everything, were it enabled.
      { ID: 'disabled', Status: 'Disabled', Filter: { Prefix: '' }, Expiration: { Days: 1 } },
    ];
    await client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: EXPIRING, LifecycleConfiguration: { Rules } }));
    await edge.close();
    edge = await startTestEdge();
    const afterRestart = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: EXPIRING }));
    const put = (Key: string, Tagging?: string) =>
      client.send(new PutObjectCommand({ Bucket: EXPIRING, Key, Body: Key, ...(Tagging ? { Tagging } : {}) }));
    const startUpload = async (Key: string) => {
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: EXPIRING, Key }));
      await client.send(new UploadPartCommand({ Bucket: EXPIRING, Key, UploadId, PartNumber: 1, Body: 'part' }));
      return { Key, UploadId };
    };
    const survivors = ['kept/outside-the-prefix', 'deliveries/untagged', 'deliveries/retagged', 'deliveries/other-value'];
    await put('kept/outside-the-prefix', 'calms-retention=expire');
    await put('deliveries/untagged');
    await put('deliveries/retagged', 'calms-retention=expire');
    await client.send(
      new PutObjectTaggingCommand({ Bucket: EXPIRING, Key: 'deliveries/retagged', Tagging: { TagSet: [{ Key: 'calms-retention', Value: 'keep' }] } }),
    );
    await put('deliveries/other-value', 'calms-retention=expired');
    const keptUpload = await startUpload('kept-uploads/active');
    const staleUpload = await startUpload('uploads/stale');
    await put('deliveries/expiring', 'calms-retention=expire&other=tag');
    await put('legacy/expiring');
    const listParts = (upload: { Key: string; UploadId: string | undefined }) => client.send(new ListPartsCommand({ Bucket: EXPIRING, ...upload }));

    // Act
    await eventually(
      async () => (!(await exists(EXPIRING, 'deliveries/expiring')) && !(await exists(EXPIRING, 'legacy/expiring'))) || undefined,
      'the expiring objects to go',
      30_000,
    );
    await eventually(
      () =>
        listParts(staleUpload).then(
          () => undefined,
          (error: Error) => error.name === 'NoSuchUpload' || undefined,
        ),
      'the stale upload to be aborted',
      30_000,
    );
    // Everything above was due before this; once it has gone, a whole sweep has passed over all of it.
    await put('deliveries/zz-last', 'calms-retention=expire');
    await eventually(async () => !(await exists(EXPIRING, 'deliveries/zz-last')) || undefined, 'the last object to expire', 30_000);

    // Assess
    expect(afterRestart.Rules).toEqual(Rules);
    for (const Key of survivors) expect((await bytesOf(EXPIRING, Key)).toString()).toBe(Key);
    expect(await tagsOf(EXPIRING, 'deliveries/retagged')).toEqual([{ Key: 'calms-retention', Value: 'keep' }]);
    expect((await listParts(keptUpload)).Parts).toEqual([expect.objectContaining({ PartNumber: 1, Size: 4 })]);
  });
});
