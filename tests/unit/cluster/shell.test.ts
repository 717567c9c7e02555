import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnsafeShellValueError } from '../../../lib/cluster/errors';
import { quote, singleQuote, type ShellValueKind } from '../../../lib/cluster/shell';

describe('shell quoting', () => {
  let sandbox: string;
  let canary: string;
  beforeEach(() => {
    sandbox = mkdtempSync(join(tmpdir(), 'calms-shell-'));
    canary = join(sandbox, 'pwned');
  });
  afterEach(() => rmSync(sandbox, { recursive: true, force: true }));

  const hostile = (target: string): string[] => [
    `x"; touch ${target}; "`,
    `x'; touch ${target}; '`,
    `$(touch ${target})`,
    `\`touch ${target}\``,
    `a\ntouch ${target}`,
    `a\r\ntouch ${target}`,
    `a && touch ${target}`,
    `\\'; touch ${target} #`,
    `\${IFS}touch\${IFS}${target}`,
    `*`,
    `!!`,
    '',
  ];

  it('makes bash print every hostile value literally and run none of it', () => {
    // Prepare
    const values = hostile(canary);

    // Act
    const printed = values.map((value) => execFileSync('bash', ['-c', `printf '%s' ${singleQuote(value)}`], { cwd: sandbox }).toString());

    // Assess
    expect(printed).toEqual(values);
    expect(existsSync(canary)).toBe(false);
  });

  it.each<[ShellValueKind, string]>([
    ['mous', 'uid___A001_X1296_X675'],
    ['measurementSet', 'uid___A002_Xd33a12_X15be.ms.split.cal'],
    ['projectCode', '2017.1.00727.S'],
    ['projectCode', '2019.A.00012.S'],
    ['helpdeskTicket', '16140'],
    ['requestId', 'req-20240101-0001'],
    ['field', 'J0510+1800'],
    ['fieldList', 'J0510+1800,J0321+1234'],
    ['absolutePath', '/opsw/work/pipeproc/autopipeline/tmp'],
    ['absolutePath', '/work/main/.calms/cluster/sandbox/work'],
    ['command', 'calms_restore.py'],
    ['command', '/opsw/packages/calms/restore.py'],
    ['casaBuild', 'casa-6.5.4-9-pipeline-2023.1.0.124'],
    ['jobId', '4242'],
  ])('accepts the %s %s and single-quotes it', (kind, value) => {
    // Act
    const quoted = quote(value, kind);

    // Assess
    expect(quoted).toBe(`'${value}'`);
  });

  it.each<[ShellValueKind, string]>([
    ['mous', 'uid://A001/X1296/X675'],
    ['mous', 'uid___A001_X1296_X675\n'],
    ['mous', "uid___A001_X1296_X675'"],
    ['projectCode', '2017.1.00727.S; id'],
    ['helpdeskTicket', '16140 '],
    ['requestId', '../etc'],
    ['field', 'J0510+1800 J0321'],
    ['fieldList', 'J0510+1800,'],
    ['absolutePath', 'relative/path'],
    ['absolutePath', '/opsw/work/../etc'],
    ['absolutePath', '/opsw/work/.'],
    ['command', '../restore.py'],
    ['jobId', '12 34'],
  ])('refuses the %s %j', (kind, value) => {
    // Act
    const act = () => quote(value, kind);

    // Assess
    expect(act).toThrow(UnsafeShellValueError);
  });

  it('refuses every hostile value for every kind', () => {
    // Prepare
    const kinds: ShellValueKind[] = [
      'mous',
      'projectCode',
      'helpdeskTicket',
      'requestId',
      'field',
      'fieldList',
      'absolutePath',
      'command',
      'casaBuild',
      'jobId',
    ];

    // Act
    const accepted = kinds.flatMap((kind) =>
      hostile('/tmp/pwned').filter((value) => {
        try {
          quote(value, kind);
          return true;
        } catch (error) {
          return !(error instanceof UnsafeShellValueError);
        }
      }),
    );

    // Assess
    expect(accepted).toEqual([]);
  });

  it('names the error class for the state machine', () => {
    // Act
    const error = (() => {
      try {
        quote('$(id)', 'field');
      } catch (caught) {
        return caught as Error;
      }
    })();

    // Assess
    expect(error?.name).toBe('UnsafeShellValueError');
  });
});
