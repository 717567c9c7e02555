import { clusterConfig, ConfigurationError } from '../../../lib/config';
import { generateSshKeyPair } from '../../../localstack/cluster/keys';

const hostKey = generateSshKeyPair().public.split(' ').slice(0, 2).join(' ');

const environment = (overrides: Record<string, string> = {}): Record<string, string> => ({
  CALMS_CLUSTER_NODES: 'arcp14.hq.eso.org, 127.0.0.1:2222',
  CALMS_CLUSTER_USER: 'arcproc',
  CALMS_CLUSTER_PRIVATE_KEY: '-----BEGIN OPENSSH PRIVATE KEY-----\n…\n-----END OPENSSH PRIVATE KEY-----\n',
  CALMS_CLUSTER_KNOWN_HOSTS: `arcp14.hq.eso.org ${hostKey}\n[127.0.0.1]:2222 ${hostKey}\n`,
  CALMS_CLUSTER_WORK_ROOT: '/opsw/work/pipeproc/autopipeline/tmp',
  CALMS_CLUSTER_RESTORE_SCRIPT: '/opsw/packages/calms/restore.py',
  ...overrides,
});

describe('clusterConfig', () => {
  it('reads the cluster settings with their defaults', () => {
    // Act
    const config = clusterConfig(environment());

    // Assess
    expect(config).toMatchObject({
      nodes: ['arcp14.hq.eso.org:22', '127.0.0.1:2222'],
      user: 'arcproc',
      workRoot: '/opsw/work/pipeproc/autopipeline/tmp',
      submitMode: 'detached',
      casaRoot: undefined,
      restoreScript: '/opsw/packages/calms/restore.py',
      connectTimeoutMs: 10_000,
      commandTimeoutMs: 120_000,
      pollSeconds: 5,
      maxRuntimeSeconds: 172_800,
    });
    expect(config.knownHosts.keysFor({ host: '127.0.0.1', port: 2222 })).toHaveLength(1);
    expect(config.casaBuilds.length).toBeGreaterThan(0);
  });

  it('takes a CASA root and the sbatch submit mode', () => {
    // Act
    const config = clusterConfig(environment({ CALMS_CLUSTER_CASA_ROOT: '/opsw/packages/casa', CALMS_CLUSTER_SUBMIT_MODE: 'sbatch' }));

    // Assess
    expect(config.casaRoot).toBe('/opsw/packages/casa');
    expect(config.submitMode).toBe('sbatch');
  });

  it('takes the key itself, or else the name of the secret that holds it', () => {
    // Act
    const inline = clusterConfig(environment({ CALMS_CLUSTER_PRIVATE_KEY_SECRET: 'calms/prod/cluster-key' }));
    const fromSecret = clusterConfig(environment({ CALMS_CLUSTER_PRIVATE_KEY: '', CALMS_CLUSTER_PRIVATE_KEY_SECRET: 'calms/prod/cluster-key' }));

    // Assess
    expect(inline.privateKey).toEqual({ key: environment().CALMS_CLUSTER_PRIVATE_KEY!.trim() });
    expect(fromSecret.privateKey).toEqual({ secretId: 'calms/prod/cluster-key' });
  });

  it.each([
    ['CALMS_CLUSTER_PRIVATE_KEY', ''],
    ['CALMS_CLUSTER_KNOWN_HOSTS', 'arcp14 ssh-ed25519'],
    ['CALMS_CLUSTER_NODES', 'arcp14;id'],
    ['CALMS_CLUSTER_WORK_ROOT', 'relative/work'],
    ['CALMS_CLUSTER_WORK_ROOT', '/tmp/$(id)'],
    ['CALMS_CLUSTER_SUBMIT_MODE', 'qsub'],
    ['CALMS_CLUSTER_CASA_BUILDS', '1-3=casa-a,3=casa-b'],
    ['CALMS_CLUSTER_CASA_ROOT', 'casa'],
    ['CALMS_CLUSTER_RESTORE_SCRIPT', 'restore.py; id'],
    ['CALMS_CLUSTER_CONNECT_TIMEOUT_SECONDS', '0'],
    ['CALMS_CLUSTER_USER', 'arc proc'],
  ])('fails naming %s when it is %j', (name, value) => {
    // Act
    const act = () => clusterConfig(environment({ [name]: value }));

    // Assess
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(name);
  });
});
