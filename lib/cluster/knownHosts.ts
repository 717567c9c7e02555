/**
 * Pinned host keys in OpenSSH known_hosts format (`CALMS_CLUSTER_KNOWN_HOSTS`), and the check that a node
 * presents exactly a key pinned for it. There is deliberately no way to accept an unknown key.
 *
 * Supported: plain host lists (`host,other`), `[host]:port` for ports other than 22, and hashed names
 * (`|1|salt|hash`, as `ssh-keyscan -H` writes). Wildcard patterns are not supported and never match; the
 * `@cert-authority`/`@revoked` markers are refused outright, since ignoring a revocation would trust a revoked key.
 */
import { createHash, createHmac } from 'node:crypto';
import type { NodeAddress } from './nodes';

export interface PinnedHostKey {
  readonly keyType: string;
  /** The key blob in SSH wire format, as a server presents it during key exchange. */
  readonly key: Buffer;
}

interface KnownHostsLine extends PinnedHostKey {
  matches(hostName: string): boolean;
}

export type HostKeyVerdict = { readonly trusted: true } | { readonly trusted: false; readonly reason: string };

/** Thrown for a malformed known_hosts text; the configuration reader names the variable. */
export class KnownHostsError extends Error {
  override readonly name = 'KnownHostsError';
}

/** Host key algorithms a pinned key type can be presented with (an RSA key signs with SHA-2 nowadays). */
const ALGORITHMS_OF_KEY_TYPE: Readonly<Record<string, readonly string[]>> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

export class KnownHosts {
  private constructor(private readonly lines: readonly KnownHostsLine[]) {}

  /** @throws KnownHostsError naming the first malformed line. */
  static parse(text: string): KnownHosts {
    const lines: KnownHostsLine[] = [];
    text.split(/\r?\n/).forEach((raw, index) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      if (line.startsWith('@')) throw new KnownHostsError(`line ${index + 1}: markers such as @revoked are not supported`);
      lines.push(parseLine(line, index + 1));
    });
    return new KnownHosts(lines);
  }

  /** The keys pinned for a node; empty when the node is unknown. */
  keysFor(node: NodeAddress): readonly PinnedHostKey[] {
    const name = knownHostsName(node);
    return this.lines.filter((line) => line.matches(name));
  }

  /** The host key algorithms to offer a node: only those its pinned keys can be presented with. */
  algorithmsFor(node: NodeAddress): string[] {
    return [...new Set(this.keysFor(node).flatMap((pinned) => ALGORITHMS_OF_KEY_TYPE[pinned.keyType]))];
  }

  check(node: NodeAddress, presented: Buffer): HostKeyVerdict {
    const pinned = this.keysFor(node);
    if (pinned.length === 0) return { trusted: false, reason: `no host key is pinned for ${knownHostsName(node)}` };
    if (pinned.some((candidate) => candidate.key.equals(presented))) return { trusted: true };
    return {
      trusted: false,
      reason: `${knownHostsName(node)} presented host key ${fingerprint(presented)}, which is not the pinned one (${pinned
        .map((candidate) => fingerprint(candidate.key))
        .join(', ')})`,
    };
  }
}

/** How known_hosts names a node: the bare host on port 22, `[host]:port` otherwise. */
export function knownHostsName(node: NodeAddress): string {
  return node.port === 22 ? node.host : `[${node.host}]:${node.port}`;
}

/** OpenSSH's fingerprint notation (`SHA256:…`), for log lines an operator compares with `ssh-keygen -lf`. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

function parseLine(line: string, number: number): KnownHostsLine {
  const [hosts, keyType, keyText] = line.split(/\s+/);
  if (keyText === undefined) throw new KnownHostsError(`line ${number}: expected "hosts key-type base64-key"`);
  if (ALGORITHMS_OF_KEY_TYPE[keyType] === undefined) throw new KnownHostsError(`line ${number}: unsupported key type ${keyType}`);
  const key = Buffer.from(keyText, 'base64');
  if (key.toString('base64').replace(/=+$/, '') !== keyText.replace(/=+$/, '') || embeddedKeyType(key) !== keyType) {
    throw new KnownHostsError(`line ${number}: the key is not a valid ${keyType} key`);
  }
  return { keyType, key, matches: hosts.startsWith('|1|') ? hashedMatcher(hosts, number) : listMatcher(hosts) };
}

/** A key blob starts with its own type as an SSH string (uint32 length, then the name). */
function embeddedKeyType(key: Buffer): string | undefined {
  if (key.length < 4) return undefined;
  const length = key.readUInt32BE(0);
  return key.length >= 4 + length ? key.subarray(4, 4 + length).toString('latin1') : undefined;
}

function listMatcher(hosts: string): (hostName: string) => boolean {
  const names = hosts.split(',');
  return (hostName) => names.includes(hostName);
}

/** `|1|base64(salt)|base64(HMAC-SHA1(salt, host name))`, OpenSSH's HashKnownHosts form. */
function hashedMatcher(hosts: string, number: number): (hostName: string) => boolean {
  const [, , saltText, hashText] = hosts.split('|');
  if (!saltText || !hashText) throw new KnownHostsError(`line ${number}: malformed hashed host name`);
  const salt = Buffer.from(saltText, 'base64');
  const hash = Buffer.from(hashText, 'base64');
  return (hostName) => createHmac('sha1', salt).update(hostName).digest().equals(hash);
}
