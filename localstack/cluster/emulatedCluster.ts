/**
 * An emulated EU ARC cluster for the local cloud and the tests: several SSH nodes (ssh2's server side), one
 * port each, sharing one sandbox directory as their filesystem, running every command for real with
 * `bash -c` as the cluster user would, with a stand-in `casa` on the PATH (see README.md).
 *
 * The sandbox is a working directory, not a jail: commands run as the user who started the emulator.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Server, utils, type Connection, type ParsedKey, type PseudoTtyInfo, type ServerChannel, type Session } from 'ssh2';
import { LOAD_AVERAGE_COMMAND } from '../../lib/cluster/remoteCommands';
import { createLogger, type Logger } from '../../lib/log';
import { listen } from '../listen';
import { generateSshKeyPair } from './keys';

export interface CasaEmulatorSettings {
  /** How long the stand-in casa works before it writes its MSs. */
  readonly seconds: number;
  /** Size in bytes of each MS it writes. */
  readonly bytes: number;
  /** Size in bytes of each MS when only calibrator fields are kept. */
  readonly calibratorBytes: number;
  /** MOUS (either uid form) for which it fails, with {@link failExitCode}. */
  readonly failMous: readonly string[];
  readonly failExitCode: number;
  /** MOUS (either uid form) for which it never finishes, until the job is stopped. */
  readonly hangMous: readonly string[];
}

export interface EmulatedClusterOptions {
  /** Node i listens on basePort + i; 0 gives every node a free port of its own (tests). */
  readonly basePort: number;
  readonly nodeCount: number;
  /** Load average per node, in node order; a node without an entry reports 0. */
  readonly loads: readonly number[];
  /** Keys, known_hosts and the sandbox live in `<stateDir>/cluster`; keys are generated once and kept. */
  readonly stateDir: string;
  /** The only user that may log in, with the key the emulator generates. */
  readonly user: string;
  /** Archive snapshot JSON the stand-in casa reads the execution blocks of a MOUS from. */
  readonly archiveSnapshot: string;
  readonly casa: CasaEmulatorSettings;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default a logger that writes nothing below warn */
  readonly log?: Logger;
}

export interface EmulatedCluster {
  /** `host:port` per node, as CALMS_CLUSTER_NODES lists them. */
  readonly nodes: readonly string[];
  /** The cluster user's private key (OpenSSH format), also at {@link privateKeyFile}. */
  readonly privateKey: string;
  readonly privateKeyFile: string;
  /** The `ssh` command a person logs in to node 0 with. */
  readonly loginCommand: string;
  /** One known_hosts line per node, also at {@link knownHostsFile}. */
  readonly knownHosts: string;
  readonly knownHostsFile: string;
  /** Where the local cloud's jobs get their work directories (CALMS_CLUSTER_WORK_ROOT). */
  readonly workRoot: string;
  /** While the file `node<i>` exists in this directory, node i drops every new connection, as a node off the network. */
  readonly downDir: string;
  /**
   * When a file `node<i>` appears in this directory, node i drops the SSH connections it has open (within a
   * quarter of a second), removes the file and writes how many it dropped to `node<i>.dropped`.
   */
  readonly dropDir: string;
  /** The variables the cluster-facing Lambdas need to reach this cluster. */
  readonly environment: Readonly<
    Record<
      'CALMS_CLUSTER_NODES' | 'CALMS_CLUSTER_USER' | 'CALMS_CLUSTER_PRIVATE_KEY' | 'CALMS_CLUSTER_KNOWN_HOSTS' | 'CALMS_CLUSTER_WORK_ROOT',
      string
    >
  >;
  /** Changes the stand-in casa's behaviour for commands started from now on. */
  setCasa(settings: Partial<CasaEmulatorSettings>): void;
  /**
   * Stops the nodes and ends every process they started. With `keepJobs`, calibration jobs (detached, each
   * in a session of its own) go on, as on a real cluster whose clients went away: a cluster started again on
   * the same state directory finds them, and {@link stopEmulatedJobs} ends them.
   */
  close(options?: { readonly keepJobs?: boolean }): Promise<void>;
}

/** Directory of the stand-in casa (and the Slurm stand-ins), put first on every command's PATH. */
export const EMULATOR_BIN_DIR = join(__dirname, 'bin');
/**
 * Under the cluster's directory: one line per start and end of a stand-in casa run (`<ISO time> start|end
 * <MOUS>`), so tests can see from the cluster's side how many calibrations ran at once, and in which order.
 */
export const CASA_JOURNAL = 'casa-journal.log';

export async function startEmulatedCluster(options: EmulatedClusterOptions): Promise<EmulatedCluster> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? createLogger({ component: 'emulated-cluster' }, undefined, 'warn');
  const root = resolve(options.stateDir, 'cluster');
  const sandbox = join(root, 'sandbox');
  const home = join(sandbox, 'home', options.user);
  const workRoot = join(sandbox, 'work');
  const downDir = join(root, 'down');
  const dropDir = join(root, 'drop');
  for (const directory of [join(root, 'keys'), home, workRoot, downDir, dropDir]) mkdirSync(directory, { recursive: true });

  const privateKeyFile = join(root, 'keys', 'id_ed25519');
  const userKey = keyPair(privateKeyFile);
  const userPublicKey = parsedKey(userKey.public);
  let casa = options.casa;
  const marker = clusterMarker(root);
  const environment = (): NodeJS.ProcessEnv => ({
    HOME: home,
    USER: options.user,
    LOGNAME: options.user,
    SHELL: '/bin/bash',
    LANG: 'C.UTF-8',
    // The stand-in casa is a node script: the node running the emulator runs it too.
    PATH: [EMULATOR_BIN_DIR, dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
    CALMS_CASA_EMULATOR_SNAPSHOT: resolve(options.archiveSnapshot),
    CALMS_CASA_EMULATOR_SECONDS: String(casa.seconds),
    CALMS_CASA_EMULATOR_BYTES: String(casa.bytes),
    CALMS_CASA_EMULATOR_CALIBRATOR_BYTES: String(casa.calibratorBytes),
    CALMS_CASA_EMULATOR_FAIL_MOUS: casa.failMous.join(','),
    CALMS_CASA_EMULATOR_FAIL_EXIT_CODE: String(casa.failExitCode),
    CALMS_CASA_EMULATOR_HANG_MOUS: casa.hangMous.join(','),
    CALMS_CASA_EMULATOR_JOURNAL: join(root, CASA_JOURNAL),
    [MARKER_VARIABLE]: marker,
  });

  const servers: Server[] = [];
  const connections = new Set<Connection>();
  const nodeConnections: Set<Connection>[] = [];
  const nodes: string[] = [];
  const knownHostsLines: string[] = [];
  for (let index = 0; index < options.nodeCount; index++) {
    const hostKey = keyPair(join(root, 'keys', `ssh_host_ed25519_key.node${index}`));
    const load = options.loads[index] ?? 0;
    const open = new Set<Connection>();
    nodeConnections.push(open);
    const server = new Server({ hostKeys: [hostKey.private] }, (connection) => {
      connections.add(connection);
      open.add(connection);
      connection.on('close', () => {
        connections.delete(connection);
        open.delete(connection);
      });
      serveConnection(connection, { user: options.user, userPublicKey, load, cwd: home, environment, log });
    });
    // ssh2 drops a new socket before any SSH byte when maxConnections is reached: read at every accept, this
    // takes the node off the network while its down file exists, and leaves open connections alone.
    const downFile = join(downDir, `node${index}`);
    Object.defineProperty(server, 'maxConnections', { get: () => (existsSync(downFile) ? 0 : Infinity), set: () => undefined });
    const port = await listen(server, options.basePort === 0 ? 0 : options.basePort + index, host).catch(async (error: Error) => {
      await Promise.all(servers.map((started) => new Promise((closed) => started.close(closed))));
      throw new Error(`emulated cluster node ${index} cannot listen on ${host}:${options.basePort + index}: ${error.message}`);
    });
    servers.push(server);
    const node = `${host}:${port}`;
    nodes.push(node);
    knownHostsLines.push(`[${host}]:${port} ${hostKey.public.trim().split(/\s+/).slice(0, 2).join(' ')}`);
    log.info('emulated cluster node listening', { node, load });
  }
  const dropWatch = setInterval(() => dropConnectionsAsked(dropDir, nodeConnections), 250);
  dropWatch.unref();
  const knownHosts = `${knownHostsLines.join('\n')}\n`;
  const knownHostsFile = join(root, 'known_hosts');
  writeFileSync(knownHostsFile, knownHosts);

  return {
    nodes,
    privateKey: userKey.private,
    privateKeyFile,
    knownHosts,
    knownHostsFile,
    loginCommand: `ssh -p ${nodes[0]!.slice(nodes[0]!.lastIndexOf(':') + 1)} -i ${privateKeyFile} -o UserKnownHostsFile=${knownHostsFile} ${options.user}@${host}`,
    workRoot,
    downDir,
    dropDir,
    environment: {
      CALMS_CLUSTER_NODES: nodes.join(','),
      CALMS_CLUSTER_USER: options.user,
      CALMS_CLUSTER_PRIVATE_KEY: userKey.private,
      CALMS_CLUSTER_KNOWN_HOSTS: knownHosts,
      CALMS_CLUSTER_WORK_ROOT: workRoot,
    },
    setCasa(settings) {
      casa = { ...casa, ...settings };
    },
    async close(closeOptions) {
      clearInterval(dropWatch);
      for (const connection of connections) connection.end();
      await Promise.all(servers.map((server) => new Promise<void>((done) => server.close(() => done()))));
      killMarkedProcesses(marker, closeOptions?.keepJobs ? sessionOf(process.pid) : undefined);
    },
  };
}

/** Ends the open connections of every node whose drop file exists, and tells how many (see EmulatedCluster.dropDir). */
function dropConnectionsAsked(dropDir: string, nodeConnections: readonly Set<Connection>[]): void {
  nodeConnections.forEach((open, index) => {
    const asked = join(dropDir, `node${index}`);
    if (!existsSync(asked)) return;
    const dropped = open.size;
    for (const connection of open) connection.end();
    writeFileSync(`${asked}.dropped`, String(dropped));
    rmSync(asked, { force: true });
  });
}

interface NodeBehaviour {
  readonly user: string;
  readonly userPublicKey: ParsedKey;
  readonly load: number;
  readonly cwd: string;
  readonly environment: () => NodeJS.ProcessEnv;
  readonly log: Logger;
}

function serveConnection(connection: Connection, node: NodeBehaviour): void {
  connection.on('error', (error) => node.log.debug('emulated cluster connection error', { errorMessage: error.message }));
  connection.on('authentication', (context) => {
    const trusted =
      context.method === 'publickey' &&
      context.username === node.user &&
      context.key.algo === node.userPublicKey.type &&
      context.key.data.equals(node.userPublicKey.getPublicSSH()) &&
      // Without a signature the client only asks whether the key would do; with one, it must verify.
      (context.signature === undefined || node.userPublicKey.verify(context.blob as Buffer, context.signature, context.hashAlgo));
    if (trusted) context.accept();
    else context.reject(['publickey']);
  });
  connection.on('ready', () => connection.on('session', (accept) => serveSession(accept(), node)));
}

function serveSession(session: Session, node: NodeBehaviour): void {
  let terminal: PseudoTtyInfo | undefined;
  let running: ChildProcess | undefined;
  session.on('pty', (accept, _reject, info) => {
    terminal = info;
    accept?.();
  });
  session.on('window-change', (accept) => accept?.());
  session.on('signal', (accept, _reject, info) => {
    running?.kill(`SIG${info.name}` as NodeJS.Signals);
    accept?.();
  });
  session.on('exec', (accept, _reject, info) => {
    const channel = accept();
    // The one special case: each node reports its configured load, which a shared machine cannot.
    if (info.command === LOAD_AVERAGE_COMMAND) {
      const load = node.load.toFixed(2);
      channel.write(`${load} ${load} ${load} 1/100 4242\n`);
      channel.exit(0);
      channel.end();
      return;
    }
    node.log.debug('emulated cluster exec', { command: info.command.slice(0, 200) });
    running = attach(channel, spawn('bash', ['-c', info.command], { cwd: node.cwd, env: node.environment() }));
  });
  session.on('shell', (accept) => {
    const channel = accept();
    // With a terminal requested (plain `ssh`), util-linux `script` gives bash a real pty: echo, line editing
    // and Ctrl-C then work as on a real node. Without one (`ssh -T`), bash reads commands from the channel.
    const child = terminal
      ? spawn('script', ['--quiet', '--flush', '--return', '--command', 'bash -i', '/dev/null'], {
          cwd: node.cwd,
          env: { ...node.environment(), TERM: terminal.term },
        })
      : spawn('bash', [], { cwd: node.cwd, env: node.environment() });
    running = attach(channel, child);
  });
}

/** Connects a child process to an SSH channel: stdin, stdout, stderr, and its exit as the channel's. */
function attach(channel: ServerChannel, child: ChildProcess): ChildProcess {
  channel.pipe(child.stdin!);
  child.stdin!.on('error', () => undefined); // a command that exits without reading its input
  child.stdout!.pipe(channel, { end: false });
  child.stderr!.pipe(channel.stderr, { end: false });
  child.on('error', (error) => {
    channel.stderr.write(`${error.message}\n`);
    channel.exit(127);
    channel.end();
  });
  child.on('close', (code, signal) => {
    if (signal) channel.exit(signal.replace(/^SIG/, ''), false, '');
    else channel.exit(code ?? 0);
    channel.end();
  });
  return child;
}

/** The key pair kept at `privateKeyFile`, generated on first use (and anew if an unreadable one is there). */
function keyPair(privateKeyFile: string): { private: string; public: string } {
  if (!existsSync(privateKeyFile) || utils.parseKey(readFileSync(privateKeyFile, 'utf8')) instanceof Error) {
    const generated = generateSshKeyPair();
    // mode 600: OpenSSH's ssh refuses a key others can read, and a person may use this one.
    writeFileSync(privateKeyFile, generated.private, { mode: 0o600 });
    writeFileSync(`${privateKeyFile}.pub`, `${generated.public}\n`);
  }
  return { private: readFileSync(privateKeyFile, 'utf8'), public: readFileSync(`${privateKeyFile}.pub`, 'utf8') };
}

function parsedKey(text: string): ParsedKey {
  const parsed = utils.parseKey(text);
  if (parsed instanceof Error) throw parsed;
  return Array.isArray(parsed) ? parsed[0] : parsed;
}

const MARKER_VARIABLE = 'CALMS_EMULATED_CLUSTER';
const MARKER_FILE = 'marker';

/**
 * Every process a node starts inherits this marker, so that the processes of the cluster kept in `root` are
 * found, detached jobs included; kept in a file, it also finds the jobs of an earlier run of the cluster.
 */
function clusterMarker(root: string): string {
  const file = join(root, MARKER_FILE);
  if (!existsSync(file)) writeFileSync(file, randomBytes(8).toString('hex'));
  return readFileSync(file, 'utf8').trim();
}

/**
 * Ends every process of the emulated cluster kept in `<stateDir>/cluster`, calibration jobs that outlived
 * the local cloud included. Returns how many it ended.
 */
export function stopEmulatedJobs(stateDir: string): number {
  const file = join(resolve(stateDir, 'cluster'), MARKER_FILE);
  return existsSync(file) ? killMarkedProcesses(readFileSync(file, 'utf8').trim()) : 0;
}

/** The session id of a process (the sixth field of /proc/<pid>/stat, after the command in parentheses). */
function sessionOf(pid: number | string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
  } catch {
    return undefined;
  }
}

/**
 * Linux: ends every process whose environment carries the marker (the emulator's own environment does not),
 * only those of session `onlySession` if given. Returns how many.
 */
function killMarkedProcesses(marker: string, onlySession?: number): number {
  if (!existsSync('/proc')) return 0;
  const needle = Buffer.from(`${MARKER_VARIABLE}=${marker}\0`);
  let killed = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`);
      const marked = environ.indexOf(needle) === 0 || environ.indexOf(Buffer.concat([Buffer.from('\0'), needle])) >= 0;
      if (!marked || (onlySession !== undefined && sessionOf(entry) !== onlySession)) continue;
      process.kill(Number(entry), 'SIGKILL');
      killed += 1;
    } catch {
      // The process ended meanwhile, or belongs to someone else: not ours to end.
    }
  }
  return killed;
}
