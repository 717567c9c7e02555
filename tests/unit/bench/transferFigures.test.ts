import { kibToMegabytes, median, megabytesPerSecond, relativeSpread } from '../../../bench/transferFigures';

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
