/**
 * What the other processes of a transfer cost (Linux /proc): the CPU time of the local cloud's processes and
 * the bytes written to the disk its S3 keeps its files on. The parsers are pure; the readers return undefined
 * where /proc does not answer (another OS, a process gone).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

export interface CpuTimes {
  /** The process's own user + system time, seconds. */
  readonly own: number;
  /** User + system time of its children that it has waited for (for the emulated cluster: the bash and tar it ran). */
  readonly reapedChildren: number;
}

/**
 * Parses /proc/<pid>/stat. The command name (field 2) is in parentheses and may hold spaces or parentheses
 * itself, so the fields are counted from the last `)`.
 */
export function parseProcStat(text: string, ticksPerSecond: number): CpuTimes {
  const rest = text
    .slice(text.lastIndexOf(')') + 2)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state): utime, stime, cutime, cstime are fields 14 to 17.
  const field = (number: number) => Number(rest[number - 3]);
  const [utime, stime, cutime, cstime] = [field(14), field(15), field(16), field(17)];
  if ([utime, stime, cutime, cstime].some((value) => !Number.isFinite(value))) throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 200)}`);
  return { own: (utime + stime) / ticksPerSecond, reapedChildren: (cutime + cstime) / ticksPerSecond };
}

/** Linux's USER_HZ, which /proc/<pid>/stat counts in; 100 on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

export function cpuTimes(pid: number): CpuTimes | undefined {
  try {
    return parseProcStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'), TICKS_PER_SECOND);
  } catch {
    return undefined;
  }
}

/**
 * The first process (by pid) run by a `node` executable with an argument ending in `script`, whose environment
 * has `variable=value`.
 */
export function findNodeProcess(script: string, variable: string, value: string): number | undefined {
  if (!fs.existsSync('/proc')) return undefined;
  const needle = `\0${variable}=${value}\0`;
  const pids = fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .sort((a, b) => a - b);
  for (const pid of pids) {
    try {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!/(^|\/)node$/.test(argv[0] ?? '') || !argv.some((argument) => argument.endsWith(script))) continue;
      if (`\0${fs.readFileSync(`/proc/${pid}/environ`, 'utf8')}`.includes(needle)) return pid;
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}

/**
 * Sectors written of the block device `major:minor` in the text of /proc/diskstats (field 10 of a line; a
 * sector is 512 bytes whatever the device's own sector size).
 */
export function parseSectorsWritten(diskstats: string, major: number, minor: number): number | undefined {
  for (const line of diskstats.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (Number(fields[0]) === major && Number(fields[1]) === minor) return Number(fields[9]);
  }
  return undefined;
}

/** Linux's encoding of a device number (glibc's gnu_dev_major/minor). */
export function deviceNumbers(dev: number): { major: number; minor: number } {
  const number = BigInt(dev);
  return {
    major: Number(((number >> 8n) & 0xfffn) | ((number >> 32n) & ~0xfffn)),
    minor: Number((number & 0xffn) | ((number >> 12n) & ~0xffn)),
  };
}

/** Bytes written so far to the disk that holds `path`; undefined when /proc/diskstats does not list it (e.g. an overlay). */
export function bytesWrittenToDiskOf(path: string): number | undefined {
  try {
    const { major, minor } = deviceNumbers(fs.statSync(path).dev);
    const sectors = parseSectorsWritten(fs.readFileSync('/proc/diskstats', 'utf8'), major, minor);
    return sectors === undefined ? undefined : sectors * 512;
  } catch {
    return undefined;
  }
}

/** Writes every dirty page to disk, so that the next measurement does not pay for the writes of the last. */
export function flushToDisk(): void {
  spawnSync('sync');
}
