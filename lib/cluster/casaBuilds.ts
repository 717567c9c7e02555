/**
 * Which CASA/pipeline build restores a project's data: the configured table (`CALMS_CLUSTER_CASA_BUILDS`)
 * looked up by the project's ALMA cycle.
 */
import { UnsupportedCycleError } from './errors';
import { SHELL_VALUE_PATTERNS } from './shell';

export interface CasaBuild {
  /** Directory name of the build, e.g. `casa-6.5.4-9-pipeline-2023.1.0.124`. */
  readonly name: string;
  /** Old builds only run on the RHEL5 machine; the job log says so as the seed's stagecalms did. */
  readonly rhel5: boolean;
}

export interface CasaBuildRange {
  readonly fromCycle: number;
  /** Inclusive; undefined for an open range (`8-`). */
  readonly toCycle?: number;
  readonly build: CasaBuild;
}

export type CasaBuildTable = readonly CasaBuildRange[];

/** Thrown for a malformed table; the configuration reader names the variable. */
export class CasaBuildTableError extends Error {
  override readonly name = 'CasaBuildTableError';
}

const ENTRY = /^(\d+)(?:(-)(\d*))?=([^:]+)(?::(rhel5))?$/;

/**
 * Parses `cycles=build[:rhel5]` entries separated by commas, where cycles is `N`, `N-M` or `N-` (open).
 * @example parseCasaBuilds('1-2=casa-4.2.2:rhel5,3-7=casa-5.6.1,8-=casa-6.5.4')
 */
export function parseCasaBuilds(text: string): CasaBuildTable {
  const table = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map(parseEntry);
  if (table.length === 0) throw new CasaBuildTableError('the table is empty');
  const sorted = [...table].sort((a, b) => a.fromCycle - b.fromCycle);
  for (let i = 1; i < sorted.length; i++) {
    const previousEnd = sorted[i - 1].toCycle ?? Infinity;
    if (sorted[i].fromCycle <= previousEnd) {
      throw new CasaBuildTableError(`cycle ${sorted[i].fromCycle} is covered by two entries`);
    }
  }
  return sorted;
}

function parseEntry(entry: string): CasaBuildRange {
  const match = ENTRY.exec(entry);
  if (!match) throw new CasaBuildTableError(`"${entry}" is not cycles=build or cycles=build:rhel5`);
  const [, from, dash, to, name, rhel5] = match;
  if (!SHELL_VALUE_PATTERNS.casaBuild.test(name)) throw new CasaBuildTableError(`"${name}" is not a valid build name`);
  const fromCycle = Number(from);
  const toCycle = dash === undefined ? fromCycle : to === '' ? undefined : Number(to);
  if (toCycle !== undefined && toCycle < fromCycle) throw new CasaBuildTableError(`"${entry}" ends before it starts`);
  return { fromCycle, toCycle, build: { name, rhel5: rhel5 !== undefined } };
}

/**
 * The first project-code year of each ALMA cycle up to Cycle 8. Cycle 2 also ran through 2014 and Cycle 7
 * through 2020 (the observatory's 2020 shutdown), so no cycle starts in those years; from 2021 one cycle
 * starts per year.
 */
const CYCLE_START_YEARS: readonly (readonly [year: number, cycle: number])[] = [
  [2011, 0],
  [2012, 1],
  [2013, 2],
  [2015, 3],
  [2016, 4],
  [2017, 5],
  [2018, 6],
  [2019, 7],
];
const YEARLY_CYCLES_FROM = { year: 2021, cycle: 8 } as const;

/**
 * The ALMA cycle of a project, from the year its code starts with: `2017.1.00727.S` is Cycle 5, and a
 * Director's Discretionary Time code of the same year (`2019.A.00012.S`) belongs to that year's cycle.
 * @throws UnsupportedCycleError for a code that is not an ALMA project code or predates Cycle 0.
 */
export function cycleOfProject(projectCode: string): number {
  if (!SHELL_VALUE_PATTERNS.projectCode.test(projectCode)) {
    throw new UnsupportedCycleError(`"${projectCode}" is not an ALMA project code`);
  }
  const year = Number(projectCode.slice(0, 4));
  if (year >= YEARLY_CYCLES_FROM.year) return YEARLY_CYCLES_FROM.cycle + (year - YEARLY_CYCLES_FROM.year);
  const started = CYCLE_START_YEARS.filter(([startYear]) => startYear <= year);
  if (started.length === 0) throw new UnsupportedCycleError(`project ${projectCode} predates ALMA Cycle 0`);
  return started[started.length - 1][1];
}

/**
 * The build that restores data of `projectCode`.
 * @throws UnsupportedCycleError when the table covers no build for the project's cycle.
 */
export function casaBuildFor(table: CasaBuildTable, projectCode: string): CasaBuild {
  const cycle = cycleOfProject(projectCode);
  const range = table.find((entry) => entry.fromCycle <= cycle && cycle <= (entry.toCycle ?? Infinity));
  if (!range) throw new UnsupportedCycleError(`no CASA build is configured for Cycle ${cycle} (project ${projectCode})`);
  return range.build;
}
