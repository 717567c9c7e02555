import { bestStreamedSeconds, cpuBoundSeconds, kibToMegabytes, median, megabytesPerSecond, relativeSpread } from '../../../bench/transferFigures';

describe('median', () => {
  test.each([
    [[3], 3],
    [[5, 1, 3], 3],
    [[4, 1, 3, 2], 2.5],
  ])('of %j is %d', (samples, expected) => {
    expect(median(samples)).toBe(expected);
  });

  test('leaves its input in its order', () => {
    // Prepare
    const samples = [3, 1, 2];

    // Act
    median(samples);

    // Assess
    expect(samples).toEqual([3, 1, 2]);
  });

  test('of no samples is an error', () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('megabytesPerSecond', () => {
  test('counts megabytes of 10^6 bytes', () => {
    expect(megabytesPerSecond(2_000_000_000, 4)).toBe(500);
  });

  test('refuses a duration that is not positive', () => {
    expect(() => megabytesPerSecond(1, 0)).toThrow(RangeError);
  });
});

describe('kibToMegabytes', () => {
  test("turns getrusage's KiB into megabytes of 10^6 bytes", () => {
    expect(kibToMegabytes(292_969)).toBeCloseTo(300, 0);
  });
});

describe('relativeSpread', () => {
  test('is the difference as a fraction of the smaller figure, whichever comes first', () => {
    expect(relativeSpread(200, 220)).toBeCloseTo(0.1);
    expect(relativeSpread(220, 200)).toBeCloseTo(0.1);
  });

  test('is 0 for equal figures', () => {
    expect(relativeSpread(250, 250)).toBe(0);
  });

  test('refuses figures that are not positive', () => {
    expect(() => relativeSpread(0, 1)).toThrow(RangeError);
  });
});

describe('bestStreamedSeconds', () => {
  test('with one part in flight, fills the first part, then uploads every part one after the other', () => {
    // 8 parts filling in 0.5 s (faster than they upload): the first fill, then 8 uploads of 2 s back to back.
    expect(bestStreamedSeconds(8, 0.5, 2, 1)).toBeCloseTo(0.5 + 8 * 2, 9);
  });

  test('with several in flight and uploads the slower side, pays for the staggered start of the first parts', () => {
    // 4 in flight, fills of 0.5 s, uploads of 2 s: parts 1-4 go up at 0.5, 1, 1.5, 2 s; 5-8 each when the one
    // 4 back lands (2.5, 3, 3.5, 4 s); the last lands at 6 s.
    expect(bestStreamedSeconds(8, 0.5, 2, 4)).toBeCloseTo(6, 9);
  });

  test('with fills the slower side, is the whole stream plus the last upload', () => {
    expect(bestStreamedSeconds(10, 1, 0.5, 4)).toBeCloseTo(10 + 0.5, 9);
  });

  test('approaches the aggregate limit as the parts grow many', () => {
    // 4 connections of 2 s per part: 0.5 s per part at best; the start costs 4 fills, once.
    const parts = 400;
    expect(bestStreamedSeconds(parts, 0.4, 2, 4) / (parts * 0.5)).toBeLessThan(1.01);
  });

  test('refuses no parts or no room', () => {
    expect(() => bestStreamedSeconds(0, 1, 1, 4)).toThrow(RangeError);
    expect(() => bestStreamedSeconds(4, 1, 1, 0)).toThrow(RangeError);
  });
});

describe('cpuBoundSeconds', () => {
  test('spreads the CPU time over the CPUs', () => {
    expect(cpuBoundSeconds(54, 2)).toBe(27);
  });

  test('refuses no CPU', () => {
    expect(() => cpuBoundSeconds(1, 0)).toThrow(RangeError);
  });
});
