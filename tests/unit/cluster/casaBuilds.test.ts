import { CasaBuildTableError, casaBuildFor, cycleOfProject, parseCasaBuilds } from '../../../lib/cluster/casaBuilds';
import { UnsupportedCycleError } from '../../../lib/cluster/errors';
import { VARIABLES } from '../../../lib/config';

describe('cycleOfProject', () => {
  it.each([
    ['2011.0.00012.S', 0],
    ['2012.1.00123.S', 1],
    ['2013.1.00001.S', 2],
    ['2014.1.00001.S', 2],
    ['2015.1.00888.S', 3],
    ['2016.1.00001.S', 4],
    ['2017.1.00727.S', 5],
    ['2018.1.01406.S', 6],
    ['2019.1.00337.S', 7],
    ['2019.A.00012.S', 7],
    ['2020.A.00001.S', 7],
    ['2021.1.01582.S', 8],
    ['2022.1.00999.S', 9],
    ['2023.1.00001.L', 10],
    ['2024.1.00001.S', 11],
  ])('puts %s in Cycle %i', (projectCode, cycle) => {
    // Act
    const actual = cycleOfProject(projectCode);

    // Assess
    expect(actual).toBe(cycle);
  });

  it.each(['2010.1.00001.S', '2017.1.727.S', 'uid___A001_X1_X2', '2017.1.00727.S\n'])('refuses %j', (projectCode) => {
    // Act
    const act = () => cycleOfProject(projectCode);

    // Assess
    expect(act).toThrow(UnsupportedCycleError);
  });
});

describe('parseCasaBuilds', () => {
  it('reads single cycles, ranges, open ranges and the rhel5 mark', () => {
    // Act
    const table = parseCasaBuilds(' 3-7=casa-5.6.1 , 8-=casa-6.5.4,1-2=casa-4.2.2:rhel5');

    // Assess
    expect(table).toEqual([
      { fromCycle: 1, toCycle: 2, build: { name: 'casa-4.2.2', rhel5: true } },
      { fromCycle: 3, toCycle: 7, build: { name: 'casa-5.6.1', rhel5: false } },
      { fromCycle: 8, toCycle: undefined, build: { name: 'casa-6.5.4', rhel5: false } },
    ]);
  });

  it.each([
    ['', 'empty'],
    ['1-5=casa-a,5=casa-b', 'covered by two entries'],
    ['1-=casa-a,9=casa-b', 'covered by two entries'],
    ['5-3=casa-a', 'ends before it starts'],
    ['3=casa-a:rhel6', 'is not cycles=build'],
    ['x=casa', 'is not cycles=build'],
    ["3=casa';id", 'not a valid build name'],
  ])('refuses %j (%s)', (text, problem) => {
    // Act
    const act = () => parseCasaBuilds(text);

    // Assess
    expect(act).toThrow(CasaBuildTableError);
    expect(act).toThrow(problem);
  });

  it('parses the default table of the configuration', () => {
    // Act
    const table = parseCasaBuilds(VARIABLES.CALMS_CLUSTER_CASA_BUILDS.default);

    // Assess
    expect(casaBuildFor(table, '2013.1.00001.S')).toEqual({ name: 'casa-4.2.2', rhel5: true });
    expect(casaBuildFor(table, '2030.1.00001.S').rhel5).toBe(false);
  });
});

describe('casaBuildFor', () => {
  const table = parseCasaBuilds('1-2=casa-4.2.2:rhel5,3-7=casa-5.6.1,8-=casa-6.5.4');

  it.each([
    ['2012.1.00123.S', 'casa-4.2.2', true],
    ['2015.1.00888.S', 'casa-5.6.1', false],
    ['2019.A.00012.S', 'casa-5.6.1', false],
    ['2021.1.01582.S', 'casa-6.5.4', false],
  ])('chooses for %s the build %s (rhel5 %s)', (projectCode, name, rhel5) => {
    // Act
    const build = casaBuildFor(table, projectCode);

    // Assess
    expect(build).toEqual({ name, rhel5 });
  });

  it('refuses a cycle the table does not cover (Cycle 0 here)', () => {
    // Act
    const act = () => casaBuildFor(table, '2011.0.00012.S');

    // Assess
    expect(act).toThrow(UnsupportedCycleError);
    expect(act).toThrow('Cycle 0');
  });
});
