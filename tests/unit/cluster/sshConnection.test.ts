import { ClusterAuthenticationError, ClusterProtocolError, ClusterUnreachableError, HostKeyMismatchError } from '../../../lib/cluster/errors';
import { translateSshError } from '../../../lib/cluster/sshConnection';

const sshError = (message: string, level?: string, code?: string) => Object.assign(new Error(message), { level, code });

describe('translateSshError', () => {
  it.each([
    [sshError('connect ECONNREFUSED 127.0.0.1:2222', 'client-socket', 'ECONNREFUSED'), ClusterUnreachableError, 'ECONNREFUSED'],
    [sshError('read ECONNRESET', 'client-socket', 'ECONNRESET'), ClusterUnreachableError, 'ECONNRESET'],
    [sshError('Timed out while waiting for handshake', 'client-timeout'), ClusterUnreachableError, 'Timed out'],
    [sshError('(SSH) Channel open failure: open failed'), ClusterUnreachableError, 'Channel open failure'],
    [sshError('All configured authentication methods failed', 'client-authentication'), ClusterAuthenticationError, 'refused'],
    [sshError('Handshake failed: no matching host key format', 'handshake'), ClusterProtocolError, 'no matching'],
    [sshError('Bad identification start', 'protocol'), ClusterProtocolError, 'Bad identification'],
    [sshError('Connection lost before handshake', 'protocol'), ClusterUnreachableError, 'dropped before the SSH handshake'],
  ])('translates %s', (error, translated, text) => {
    // Act
    const result = translateSshError('arcp14:22', error);

    // Assess
    expect(result).toBeInstanceOf(translated);
    expect(result.message).toContain('arcp14:22');
    expect(result.message).toContain(text);
  });

  it('reports a refused host key as such, whatever ssh2 called the failure', () => {
    // Act
    const result = translateSshError('arcp14:22', sshError('Host denied (verification failed)', 'handshake'), 'a changed key');

    // Assess
    expect(result).toBeInstanceOf(HostKeyMismatchError);
    expect(result.name).toBe('HostKeyMismatchError');
    expect(result.message).toBe('arcp14:22: a changed key');
  });
});
