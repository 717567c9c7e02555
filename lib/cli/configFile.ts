/**
 * The CLI's config file, for what ARC staff would otherwise type or export every time: their own address as
 * ARC contact (as the old script took the logged-in staff member), and the API's URL and key. `NAME=value`
 * lines, `#` comments, blank lines; a value set in the environment wins over the file's.
 */
import path from 'node:path';
import { ConfigurationError } from '../config';

/** How the help texts name the file; {@link cliConfigFilePath} is where it really is. */
export const CLI_CONFIG_FILE_SHOWN = '~/.config/calms/config';

/** The settings the file may hold: the CLI's own. */
const FILE_VARIABLES: readonly string[] = ['CALMS_API_URL', 'CALMS_API_KEY', 'CALMS_ARC_CONTACT'];

type Env = Readonly<Record<string, string | undefined>>;

/** `$XDG_CONFIG_HOME/calms/config`, by default `~/.config/calms/config`; undefined without a home to look in. */
export function cliConfigFilePath(env: Env): string | undefined {
  const base = env.XDG_CONFIG_HOME?.trim() || (env.HOME?.trim() ? path.join(env.HOME.trim(), '.config') : undefined);
  return base === undefined ? undefined : path.join(base, 'calms', 'config');
}

/** The file's settings; a line that is not `NAME=value` for one of the CLI's variables is an error naming it. */
export function parseCliConfigFile(text: string, file: string): Record<string, string> {
  const settings: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^(?:export\s+)?([A-Z_][A-Z0-9_]*)\s*=\s*(.*)$/.exec(line);
    const where = `${file}, line ${index + 1}`;
    if (!match) throw new ConfigurationError(`${where}: expected NAME=value, got "${line}"`);
    const [, name, value] = match as unknown as [string, string, string];
    if (!FILE_VARIABLES.includes(name)) throw new ConfigurationError(`${where}: ${name} is not a setting of the CLI (${FILE_VARIABLES.join(', ')})`);
    settings[name] = value.replace(/^(["'])(.*)\1$/, '$2');
  });
  return settings;
}

/** The environment the CLI runs with: the file's settings under the environment's non-empty ones. */
export function withCliConfigFile(env: Env, readFile: (file: string) => string | undefined): Record<string, string | undefined> {
  const file = cliConfigFilePath(env);
  const text = file === undefined ? undefined : readFile(file);
  if (text === undefined || file === undefined) return { ...env };
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value?.trim()));
  return { ...env, ...parseCliConfigFile(text, file), ...set };
}
