/** SSH key pairs for the emulated cluster and the tests. */
import { utils } from 'ssh2';

export interface SshKeyPair {
  /** OpenSSH private key text. */
  readonly private: string;
  /** `ssh-ed25519 AAAA…` */
  readonly public: string;
}

/**
 * A new ed25519 key pair. ssh2 1.17 writes about one key in 256 malformed (it strips a leading zero byte
 * of the public key: mscdex/ssh2#1390), which neither ssh2 nor OpenSSH can read; such a pair is
 * generated anew.
 */
export function generateSshKeyPair(): SshKeyPair {
  for (;;) {
    const pair = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error)) return pair;
  }
}
