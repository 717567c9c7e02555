import { ConfigurationError } from '../../../lib/config';
import { cliConfigFilePath, parseCliConfigFile, withCliConfigFile } from '../../../lib/cli/configFile';

describe('the CLI config file', () => {
  it('lives in $XDG_CONFIG_HOME/calms/config, else ~/.config/calms/config, and nowhere without a home', () => {
    expect(cliConfigFilePath({ HOME: '/home/evk' })).toBe('/home/evk/.config/calms/config');
    expect(cliConfigFilePath({ HOME: '/home/evk', XDG_CONFIG_HOME: '/cfg' })).toBe('/cfg/calms/config');
    expect(cliConfigFilePath({})).toBeUndefined();
  });

  it('reads NAME=value lines, export and quotes allowed, comments and blank lines skipped', () => {
    // Prepare
    const text = '# mine\n\nCALMS_ARC_CONTACT=evkampe@eso.org\nexport CALMS_API_URL="https://calms.example.org/prod"\nCALMS_API_KEY = \'k-123\'\n';

    // Act
    const settings = parseCliConfigFile(text, '/cfg/calms/config');

    // Assess
    expect(settings).toEqual({ CALMS_ARC_CONTACT: 'evkampe@eso.org', CALMS_API_URL: 'https://calms.example.org/prod', CALMS_API_KEY: 'k-123' });
  });

  it.each([
    ['CALMS_ARC_CONTACT evkampe@eso.org', 'line 2: expected NAME=value, got "CALMS_ARC_CONTACT evkampe@eso.org"'],
    ['CALMS_DATA_BUCKET=x', 'line 2: CALMS_DATA_BUCKET is not a setting of the CLI (CALMS_API_URL, CALMS_API_KEY, CALMS_ARC_CONTACT)'],
  ])('refuses %j, naming the file and line', (line, message) => {
    expect(() => parseCliConfigFile(`# ok\n${line}\n`, '/cfg/calms/config')).toThrow(new ConfigurationError(`/cfg/calms/config, ${message}`));
  });

  it("gives the file's settings under the environment's: a non-empty variable wins, an empty one does not", () => {
    // Prepare
    const file = 'CALMS_ARC_CONTACT=from.file@eso.org\nCALMS_API_KEY=file-key\n';
    const readFile = (path: string) => (path === '/home/evk/.config/calms/config' ? file : undefined);

    // Act
    const env = withCliConfigFile({ HOME: '/home/evk', CALMS_API_KEY: 'env-key', CALMS_ARC_CONTACT: '' }, readFile);
    const without = withCliConfigFile({ HOME: '/nobody', CALMS_API_KEY: 'env-key' }, readFile);

    // Assess
    expect(env).toMatchObject({ CALMS_API_KEY: 'env-key', CALMS_ARC_CONTACT: 'from.file@eso.org' });
    expect(without).toEqual({ HOME: '/nobody', CALMS_API_KEY: 'env-key' });
  });
});
