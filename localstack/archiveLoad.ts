/**
 * `npm run archive:load -- [--replace] [<snapshot.json>]`: loads a snapshot into the archive CALMS_ARCHIVE_URL
 * names (PostgreSQL, or the SQLite file; unset, the local cloud's), creating its schema. An archive that
 * already holds rows is left alone unless --replace is given. The snapshot defaults to CALMS_ARCHIVE_SNAPSHOT.
 * With CALMS_ARCHIVE_PASSWORD_SECRET the password is read from Secrets Manager with your AWS credentials.
 */
import path from 'node:path';
import { ArchiveNotEmptyError, loadSnapshot, readSnapshotFile } from '../lib/archive';
import { archivePassword } from '../lib/archive/open';
import { archiveConfig, type Env, localEnvironment } from '../lib/config';
import { localCloudConfig } from './config';

export const REPLACE_FLAG = '--replace';
const USAGE = `usage: npm run archive:load -- [${REPLACE_FLAG}] [<snapshot.json>]`;

/** Runs the command; returns its exit status and what it prints (errors included). */
export async function archiveLoad(args: readonly string[], env: Env = process.env): Promise<{ status: number; output: string }> {
  const replace = args.includes(REPLACE_FLAG);
  const rest = args.filter((arg) => arg !== REPLACE_FLAG);
  if (rest.length > 1 || rest.some((arg) => arg.startsWith('-'))) return { status: 2, output: USAGE };
  // The local cloud's archive unless CALMS_ARCHIVE_URL says otherwise; the AWS endpoint only as the caller set it.
  const local = localEnvironment(env);
  const snapshotPath = rest[0] ?? localCloudConfig(local).archiveSnapshot;
  try {
    const archive = archiveConfig(local);
    const where = archive.location.dialect === 'sqlite' ? path.resolve(archive.location.path) : archive.location.display;
    const password = archivePassword(archive, { awsEndpoint: env.CALMS_AWS_ENDPOINT?.trim() || undefined });
    const summary = await loadSnapshot(readSnapshotFile(snapshotPath), archive.location, { replace, ...(password ? { password } : {}) });
    return {
      status: 0,
      output: `Loaded ${snapshotPath} into ${where}: ${summary.mous} MOUS (${summary.execBlocks} execution blocks), ${summary.projects} projects, ${summary.users} users, ${summary.delegations} delegations`,
    };
  } catch (error) {
    if (error instanceof ArchiveNotEmptyError) {
      return { status: 1, output: `Nothing loaded: ${error.message}. Run again with ${REPLACE_FLAG} to replace it.` };
    }
    return { status: 1, output: `Nothing loaded: ${error instanceof Error ? error.message : String(error)}` };
  }
}

if (require.main === module) {
  archiveLoad(process.argv.slice(2)).then(({ status, output }) => {
    (status === 0 ? process.stdout : process.stderr).write(`${output}\n`);
    process.exitCode = status;
  });
}
