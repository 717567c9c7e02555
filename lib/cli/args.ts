/**
 * Command-line arguments of `calms`: the old `triggerCalMSCreation.sh` argument order, plus options.
 * Pure: the server validates the values themselves (project code, addresses, UIDs), so the rules live in one
 * place; here only the shape of the command line is checked.
 */
import { parseArgs } from 'node:util';

export const HELP_TOPICS = ['main', 'request', 'queue', 'status', 'triggers', 'stats', 'cancel', 'keep', 'resend', 'redrive', 'doctor'] as const;
export type HelpTopic = (typeof HELP_TOPICS)[number];

/** What `calms status` asks for: one request, or every request of a helpdesk ticket or of a MOUS. */
export type StatusTarget = { readonly requestId: string } | { readonly ticket: string } | { readonly mous: string };

/** One helpdesk ticket's request for one MOUS, as typed. */
export interface RequestArguments {
  readonly projectCode: string;
  readonly userName: string;
  readonly userEmail: string;
  readonly helpdeskTicket: string;
  /** As typed: `uid://A001/X1296/X675` or `uid___A001_X1296_X675`; the server normalises it. */
  readonly mous: string;
  /** Split at commas; empty when the optional argument is absent or blank. */
  readonly calibratorFields: readonly string[];
  /** `--arc-contact`; absent when not given, so that CALMS_ARC_CONTACT supplies it. */
  readonly arcContact?: string;
  /** Create a trigger even if one for the MOUS is still active, without asking. */
  readonly force: boolean;
  /** Abort on an active trigger for the MOUS without asking (for scripts). */
  readonly abortOnDuplicate: boolean;
}

export type Command =
  | { readonly kind: 'help'; readonly topic: HelpTopic }
  | { readonly kind: 'request'; readonly request: RequestArguments }
  /** `json`: print the answer of `GET /queue` as JSON instead of the table. */
  | { readonly kind: 'queue'; readonly json: boolean }
  /** `json` here and below: print the API's answer as JSON instead of the readable text. */
  | { readonly kind: 'status'; readonly target: StatusTarget; readonly json: boolean }
  | { readonly kind: 'triggers'; readonly json: boolean }
  /** `from`, `to`: months as typed (the server checks them); `csv`: the CSV for a spreadsheet instead of the table. */
  | { readonly kind: 'stats'; readonly from?: string; readonly to?: string; readonly csv: boolean; readonly json: boolean }
  | { readonly kind: 'cancel'; readonly requestId: string; readonly json: boolean }
  /** `undo`: release a kept delivery, so it expires as usual. */
  | { readonly kind: 'keep'; readonly requestId: string; readonly undo: boolean; readonly json: boolean }
  | { readonly kind: 'resend'; readonly requestId: string; readonly json: boolean }
  | { readonly kind: 'redrive'; readonly requestId: string; readonly json: boolean }
  | { readonly kind: 'doctor'; readonly json: boolean };

export type ParsedCommand =
  | { readonly ok: true; readonly command: Command }
  | { readonly ok: false; readonly message: string; readonly topic: HelpTopic };

/** The positional arguments of `calms request`, in order; the last one is optional. */
export const REQUEST_ARGUMENT_NAMES = ['<proj code>', '"<user name>"', '"<user email>"', '<ticket>', '<MOUS UID>', '"<calibrator fields>"'] as const;
const REQUIRED_COUNT = 5;

const usageError = (message: string, topic: HelpTopic): ParsedCommand => ({ ok: false, message, topic });

/** `argv` without the node executable and script, i.e. `process.argv.slice(2)`. */
export function parseCommandLine(argv: readonly string[]): ParsedCommand {
  const [first, ...rest] = argv;
  if (first === undefined) return usageError('calms: no command given', 'main');
  if (first === '--help' || first === '-h') return { ok: true, command: { kind: 'help', topic: 'main' } };
  if (first === 'help') {
    if (rest.length === 0) return { ok: true, command: { kind: 'help', topic: 'main' } };
    const topic = HELP_TOPICS.find((candidate) => candidate !== 'main' && candidate === rest[0]);
    if (rest.length === 1 && topic) return { ok: true, command: { kind: 'help', topic } };
    return usageError(`calms help: unknown topic "${rest.join(' ')}"`, 'main');
  }
  if (first === 'request') return parseRequest(rest);
  if (first === 'queue') return parseQueue(rest);
  if (first === 'status') return parseStatus(rest);
  if (first === 'triggers' || first === 'doctor') return parseWithoutArguments(first, rest);
  if (first === 'stats') return parseStats(rest);
  if (first === 'cancel' || first === 'resend' || first === 'redrive') return parseOnRequest(first, rest);
  if (first === 'keep') return parseKeep(rest);
  if (first.startsWith('-')) return usageError(`calms: unknown option "${first}" (options go after the command)`, 'main');
  const nearest = nearestCommand(first);
  return usageError(`calms: unknown command "${first}"${nearest ? `. Did you mean "calms ${nearest}"?` : ''}`, 'main');
}

/** The commands `calms` knows, for suggestions: every help topic but the overview. */
const COMMANDS: readonly string[] = HELP_TOPICS.filter((topic) => topic !== 'main');

/** The command a mistyped one was most likely meant to be: at most two edits away (one for short words). */
export function nearestCommand(typed: string): string | undefined {
  const word = typed.toLowerCase();
  let best: { command: string; distance: number } | undefined;
  for (const command of COMMANDS) {
    const distance = editDistance(word, command);
    if (distance <= Math.min(2, Math.floor(command.length / 3)) && (!best || distance < best.distance)) best = { command, distance };
  }
  return best?.command;
}

/** Damerau-Levenshtein (optimal string alignment): "stauts" is one transposition from "status". */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** `--yes` once meant "abort on a duplicate", the opposite of what it suggests; it is refused rather than guessed. */
export const YES_REMOVED =
  'calms request: --yes is gone, as it meant "abort if this is a duplicate", not "go on". ' +
  'Use --abort-on-duplicate to abort without asking (for scripts), or --force to go on despite an active trigger.';

function parseRequest(args: readonly string[]): ParsedCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        'arc-contact': { type: 'string' },
        force: { type: 'boolean', short: 'f' },
        'abort-on-duplicate': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    if (args.some((arg) => arg === '--yes' || arg === '-y' || arg.startsWith('--yes='))) return usageError(YES_REMOVED, 'request');
    return usageError(`calms request: ${(error as Error).message}`, 'request');
  }
  const { values, positionals } = parsed;
  if (values.help) return { ok: true, command: { kind: 'help', topic: 'request' } };

  if (positionals.length < REQUIRED_COUNT) {
    const missing = REQUEST_ARGUMENT_NAMES.slice(positionals.length, REQUIRED_COUNT).join(' ');
    return usageError(`calms request: expected 5 or 6 arguments, got ${positionals.length}: missing ${missing}`, 'request');
  }
  if (positionals.length > REQUEST_ARGUMENT_NAMES.length) {
    return usageError(
      `calms request: expected 5 or 6 arguments, got ${positionals.length}. ` +
        'Quote the user name ("Judit Szulagyi") and give all calibrator fields as one argument, comma-separated ("J0510+1800,J0321+1234").',
      'request',
    );
  }

  const arcContact = values['arc-contact']?.trim();
  if (values['arc-contact'] !== undefined && !arcContact)
    return usageError('calms request: --arc-contact is empty: give your own address', 'request');
  const force = values.force ?? false;
  const abortOnDuplicate = values['abort-on-duplicate'] ?? false;
  if (force && abortOnDuplicate) {
    return usageError(
      'calms request: --force and --abort-on-duplicate contradict each other: --force goes on despite an active trigger, --abort-on-duplicate aborts on one',
      'request',
    );
  }

  const [projectCode, userName, userEmail, helpdeskTicket, mous, fields] = positionals as [string, string, string, string, string, string?];
  return {
    ok: true,
    command: {
      kind: 'request',
      request: {
        projectCode: projectCode.trim(),
        userName: userName.trim(),
        userEmail: userEmail.trim(),
        helpdeskTicket: helpdeskTicket.trim(),
        mous: mous.trim(),
        calibratorFields: splitFields(fields),
        ...(arcContact ? { arcContact } : {}),
        force,
        abortOnDuplicate,
      },
    },
  };
}

function parseQueue(args: readonly string[]): ParsedCommand {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    return usageError(`calms queue: ${(error as Error).message}`, 'queue');
  }
  if (values.help) return { ok: true, command: { kind: 'help', topic: 'queue' } };
  return { ok: true, command: { kind: 'queue', json: values.json ?? false } };
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/** Parses the options and positionals of subcommand `topic`; a usage error as text when they do not parse. */
function parseOptions(
  topic: HelpTopic,
  args: readonly string[],
  options: Options,
): { values: Readonly<Record<string, unknown>>; positionals: string[] } | string {
  try {
    return parseArgs({ args: [...args], allowPositionals: true, strict: true, options: { ...options, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    return `calms ${topic}: ${(error as Error).message}`;
  }
}

const JSON_OPTION = { json: { type: 'boolean' } } as const;

function parseStatus(args: readonly string[]): ParsedCommand {
  const parsed = parseOptions('status', args, { ...JSON_OPTION, ticket: { type: 'string' }, mous: { type: 'string' } });
  if (typeof parsed === 'string') return usageError(parsed, 'status');
  const { values, positionals } = parsed;
  if (values.help) return { ok: true, command: { kind: 'help', topic: 'status' } };
  const ticket = typeof values.ticket === 'string' ? values.ticket.trim() : undefined;
  const mous = typeof values.mous === 'string' ? values.mous.trim() : undefined;
  const given = [positionals.length > 0, ticket !== undefined, mous !== undefined].filter(Boolean).length;
  if (given !== 1 || positionals.length > 1) {
    return usageError('calms status: give one request id, or --ticket <ticket>, or --mous <MOUS UID>', 'status');
  }
  const target: StatusTarget = ticket !== undefined ? { ticket } : mous !== undefined ? { mous } : { requestId: positionals[0]!.trim() };
  return { ok: true, command: { kind: 'status', target, json: values.json === true } };
}

/** `calms triggers` and `calms doctor`: `--json` at most. */
function parseWithoutArguments(kind: 'triggers' | 'doctor', args: readonly string[]): ParsedCommand {
  const parsed = parseOptions(kind, args, JSON_OPTION);
  if (typeof parsed === 'string') return usageError(parsed, kind);
  if (parsed.values.help) return { ok: true, command: { kind: 'help', topic: kind } };
  if (parsed.positionals.length > 0) return usageError(`calms ${kind}: takes no arguments, got "${parsed.positionals.join(' ')}"`, kind);
  return { ok: true, command: { kind, json: parsed.values.json === true } };
}

function parseStats(args: readonly string[]): ParsedCommand {
  const parsed = parseOptions('stats', args, { ...JSON_OPTION, csv: { type: 'boolean' }, from: { type: 'string' }, to: { type: 'string' } });
  if (typeof parsed === 'string') return usageError(parsed, 'stats');
  const { values, positionals } = parsed;
  if (values.help) return { ok: true, command: { kind: 'help', topic: 'stats' } };
  if (positionals.length > 0) return usageError(`calms stats: takes no arguments, got "${positionals.join(' ')}"`, 'stats');
  if (values.csv === true && values.json === true) return usageError('calms stats: --csv and --json are two ways to print; choose one', 'stats');
  const from = typeof values.from === 'string' ? values.from.trim() : undefined;
  const to = typeof values.to === 'string' ? values.to.trim() : undefined;
  return { ok: true, command: { kind: 'stats', from, to, csv: values.csv === true, json: values.json === true } };
}

/** The one request id of `calms cancel|keep|resend|redrive`, or the usage error. */
function requestIdArgument(topic: HelpTopic, positionals: readonly string[]): string | ParsedCommand {
  if (positionals.length !== 1 || positionals[0]!.trim() === '') {
    return usageError(`calms ${topic}: expected one request id (as calms request printed it), got ${positionals.length} arguments`, topic);
  }
  return positionals[0]!.trim();
}

function parseOnRequest(kind: 'cancel' | 'resend' | 'redrive', args: readonly string[]): ParsedCommand {
  const parsed = parseOptions(kind, args, JSON_OPTION);
  if (typeof parsed === 'string') return usageError(parsed, kind);
  if (parsed.values.help) return { ok: true, command: { kind: 'help', topic: kind } };
  const requestId = requestIdArgument(kind, parsed.positionals);
  if (typeof requestId !== 'string') return requestId;
  return { ok: true, command: { kind, requestId, json: parsed.values.json === true } };
}

function parseKeep(args: readonly string[]): ParsedCommand {
  const parsed = parseOptions('keep', args, { ...JSON_OPTION, undo: { type: 'boolean' } });
  if (typeof parsed === 'string') return usageError(parsed, 'keep');
  if (parsed.values.help) return { ok: true, command: { kind: 'help', topic: 'keep' } };
  const requestId = requestIdArgument('keep', parsed.positionals);
  if (typeof requestId !== 'string') return requestId;
  return { ok: true, command: { kind: 'keep', requestId, undo: parsed.values.undo === true, json: parsed.values.json === true } };
}

/**
 * `"J0510+1800,J0321+1234"` → `["J0510+1800", "J0321+1234"]`. Blank or absent → none. Empty pieces are kept
 * so that the server reports `"A,,B"` instead of the CLI guessing what was meant.
 */
export function splitFields(text: string | undefined): string[] {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((field) => field.trim());
}
