import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

export type YesNo = 'yes' | 'no';

/**
 * Asks a yes/no question on `output` and reads the answer from `input`, line by line until it is y, yes, n or
 * no (any case); an empty line or the end of the input gives `defaultAnswer`. The terminal echoes what is
 * typed itself, so readline runs without its own terminal handling. One reader serves all attempts, so no
 * typed-ahead line is lost.
 */
export async function askYesNo(input: Readable, output: Writable, question: string, defaultAnswer: YesNo): Promise<YesNo> {
  const lines = createInterface({ input, terminal: false });
  try {
    output.write(question);
    for await (const line of lines) {
      const word = line.trim().toLowerCase();
      if (word === '') return defaultAnswer;
      if (word === 'y' || word === 'yes') return 'yes';
      if (word === 'n' || word === 'no') return 'no';
      output.write(`Please answer y or n. ${question}`);
    }
    return defaultAnswer;
  } finally {
    lines.close();
  }
}
