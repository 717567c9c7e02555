import { deviceNumbers, parseProcStat, parseSectorsWritten } from '../../../bench/processStats';

describe('parseProcStat', () => {
  // Fields 14 to 17: utime 250, stime 50, cutime 30, cstime 10 (ticks).
  const line = (comm: string) => `4242 (${comm}) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 30 10 20 0 11 0 100 1000 200 18446744073709551615`;

  test('reads own and reaped-children CPU seconds', () => {
    expect(parseProcStat(line('node'), 100)).toEqual({ own: 3, reapedChildren: 0.4 });
  });

  test('counts fields from the last parenthesis, so a command name with spaces and parentheses does not shift them', () => {
    expect(parseProcStat(line('a (b) c'), 100)).toEqual({ own: 3, reapedChildren: 0.4 });
  });

  test('refuses what is not a stat line', () => {
    expect(() => parseProcStat('nonsense', 100)).toThrow(/not a \/proc/);
  });
});

describe('parseSectorsWritten', () => {
  const diskstats = [
    ' 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0',
    ' 254       0 vda 1000 20 80000 300 5000 70 123456 900 0 1200 1300',
    ' 254       1 vda1 10 0 800 3 50 0 999 9 0 12 13',
  ].join('\n');

  test('reads field 10 of the line of the device', () => {
    expect(parseSectorsWritten(diskstats, 254, 0)).toBe(123456);
    expect(parseSectorsWritten(diskstats, 254, 1)).toBe(999);
  });

  test('is undefined for a device it does not list', () => {
    expect(parseSectorsWritten(diskstats, 8, 0)).toBeUndefined();
  });
});

describe('deviceNumbers', () => {
  test('decodes the classic 8-bit minor', () => {
    expect(deviceNumbers(0xfe01)).toEqual({ major: 254, minor: 1 });
  });

  test('decodes the high minor bits', () => {
    // major 259, minor 300: minor's low 8 bits at bits 0-7, its higher bits from bit 20 (glibc's makedev).
    expect(deviceNumbers((259 << 8) | (300 & 0xff) | ((300 & ~0xff) << 12))).toEqual({ major: 259, minor: 300 });
  });
});
