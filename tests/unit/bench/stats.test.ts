import { percentile, summariseLatencies } from '../../../bench/stats';

const oneToHundred = Array.from({ length: 100 }, (_, index) => index + 1);

describe('percentile', () => {
  test.each([
    [50, 50],
    [95, 95],
    [99, 99],
    [100, 100],
    [0.5, 1],
  ])('p%d of 1..100 is %d', (p, expected) => {
    expect(percentile(oneToHundred, p)).toBe(expected);
  });

  test('is nearest-rank: always a sample, rounding the rank up', () => {
    // Prepare: rank of p50 of 5 samples is ceil(2.5) = 3; of p95 ceil(4.75) = 5
    const samples = [10, 20, 30, 40, 50];

    // Act & Assess
    expect(percentile(samples, 50)).toBe(30);
    expect(percentile(samples, 95)).toBe(50);
    expect(percentile(samples, 20)).toBe(10);
    expect(percentile(samples, 21)).toBe(20);
  });

  test('sorts numerically without changing its input', () => {
    // Prepare
    const samples = [100, 9, 25, 3];

    // Act
    const median = percentile(samples, 50);

    // Assess
    expect(median).toBe(9);
    expect(samples).toEqual([100, 9, 25, 3]);
  });

  test('of one sample is that sample', () => {
    expect(percentile([7.5], 1)).toBe(7.5);
    expect(percentile([7.5], 100)).toBe(7.5);
  });

  test.each([0, -1, 101, Number.NaN])('refuses p = %d', (p) => {
    expect(() => percentile(oneToHundred, p)).toThrow(RangeError);
  });

  test('refuses no samples', () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
  });
});

describe('summariseLatencies', () => {
  test('gives the percentiles, the maximum and requests per second of wall-clock time', () => {
    // Act
    const summary = summariseLatencies(oneToHundred, 2000);

    // Assess
    expect(summary).toEqual({ count: 100, p50Ms: 50, p95Ms: 95, p99Ms: 99, maxMs: 100, throughputPerSecond: 50 });
  });
});
