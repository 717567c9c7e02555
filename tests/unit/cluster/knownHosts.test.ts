import { createHmac, randomBytes } from 'node:crypto';
import { utils } from 'ssh2';
import { fingerprint, KnownHosts, KnownHostsError } from '../../../lib/cluster/knownHosts';
import { generateSshKeyPair } from '../../../localstack/cluster/keys';

function generatedKey(type: 'ed25519' | 'rsa' = 'ed25519'): { line: string; blob: Buffer } {
  const publicKey = (type === 'rsa' ? utils.generateKeyPairSync('rsa', { bits: 2048 }) : generateSshKeyPair()).public;
  const [keyType, base64] = publicKey.split(' ');
  return { line: `${keyType} ${base64}`, blob: Buffer.from(base64, 'base64') };
}

function hashed(hostName: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(hostName).digest('base64')}`;
}

describe('KnownHosts', () => {
  const nodeKey = generatedKey();
  const otherKey = generatedKey();
  const rsaKey = generatedKey('rsa');

  it('trusts the key pinned for a node on a non-standard port, in [host]:port form', () => {
    // Prepare
    const knownHosts = KnownHosts.parse(`# pinned\n\n[127.0.0.1]:2222 ${nodeKey.line}\n`);

    // Act
    const verdict = knownHosts.check({ host: '127.0.0.1', port: 2222 }, nodeKey.blob);

    // Assess
    expect(verdict).toEqual({ trusted: true });
  });

  it('trusts a bare host name on port 22 and one of a comma-separated list', () => {
    // Prepare
    const knownHosts = KnownHosts.parse(`arcp1.hq.eso.org,arcp14.hq.eso.org ${nodeKey.line}`);

    // Act
    const verdict = knownHosts.check({ host: 'arcp14.hq.eso.org', port: 22 }, nodeKey.blob);

    // Assess
    expect(verdict.trusted).toBe(true);
  });

  it('trusts a hashed host name as ssh-keyscan -H writes it', () => {
    // Prepare
    const knownHosts = KnownHosts.parse(`${hashed('[arcp14.hq.eso.org]:2200')} ${nodeKey.line}`);

    // Act
    const trusted = knownHosts.check({ host: 'arcp14.hq.eso.org', port: 2200 }, nodeKey.blob);
    const otherPort = knownHosts.check({ host: 'arcp14.hq.eso.org', port: 22 }, nodeKey.blob);

    // Assess
    expect(trusted.trusted).toBe(true);
    expect(otherPort.trusted).toBe(false);
  });

  it('refuses a changed key and says which key was presented', () => {
    // Prepare
    const knownHosts = KnownHosts.parse(`[127.0.0.1]:2222 ${nodeKey.line}`);

    // Act
    const verdict = knownHosts.check({ host: '127.0.0.1', port: 2222 }, otherKey.blob);

    // Assess
    expect(verdict.trusted).toBe(false);
    expect(!verdict.trusted && verdict.reason).toContain(fingerprint(otherKey.blob));
  });

  it('refuses an unknown node, even one whose key is pinned for another port', () => {
    // Prepare
    const knownHosts = KnownHosts.parse(`[127.0.0.1]:2222 ${nodeKey.line}`);

    // Act
    const verdict = knownHosts.check({ host: '127.0.0.1', port: 2223 }, nodeKey.blob);

    // Assess
    expect(verdict).toEqual({ trusted: false, reason: 'no host key is pinned for [127.0.0.1]:2223' });
  });

  it('offers only the algorithms of the pinned key types', () => {
    // Prepare
    const knownHosts = KnownHosts.parse(`node1 ${nodeKey.line}\nnode2 ${rsaKey.line}\nnode2 ${otherKey.line}`);

    // Act
    const node1 = knownHosts.algorithmsFor({ host: 'node1', port: 22 });
    const node2 = knownHosts.algorithmsFor({ host: 'node2', port: 22 });
    const unknown = knownHosts.algorithmsFor({ host: 'node3', port: 22 });

    // Assess
    expect(node1).toEqual(['ssh-ed25519']);
    expect(node2).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']);
    expect(unknown).toEqual([]);
  });

  it('writes fingerprints as ssh-keygen -l does', () => {
    // Act
    const printed = fingerprint(nodeKey.blob);

    // Assess
    expect(printed).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it.each([
    ['node1 ssh-ed25519', 'line 1: expected'],
    [`node1 ssh-dss ${nodeKey.line.split(' ')[1]}`, 'unsupported key type ssh-dss'],
    [`node1 ssh-rsa ${nodeKey.line.split(' ')[1]}`, 'not a valid ssh-rsa key'],
    ['node1 ssh-ed25519 not-base64!', 'not a valid ssh-ed25519 key'],
    [`\n@revoked node1 ${nodeKey.line}`, 'line 2: markers'],
    [`@cert-authority *.hq.eso.org ${nodeKey.line}`, 'markers'],
    [`|1|onlysalt ssh-ed25519 ${nodeKey.line.split(' ')[1]}`, 'malformed hashed host name'],
  ])('refuses %j', (text, problem) => {
    // Act
    const act = () => KnownHosts.parse(text);

    // Assess
    expect(act).toThrow(KnownHostsError);
    expect(act).toThrow(problem);
  });
});
