import {
  NOT_ENTITLED_USER_TEXT,
  outcomeReply,
  type ReplyOutcome,
  ReplyWord,
  requestEmail,
  requestSubject,
  requestText,
} from '../../../lib/domain/messages';
import { seedMousRequest } from '../fakes';

/** The seed's addresses: AOG, and Dirk Petry as the maintainer copied on every request. */
const addresses = { aog: 'aog@eso.org', maintainer: 'dpetry@eso.org' };

/** The seed's trigger file example, word for word (evkampe sent it; "note that the line starting with calfield is optional"). */
const SEED_TRIGGER_TEXT = `EU ARC contact evkampe@eso.org
CC email dpetry@eso.org
ALMA: REQUEST FOR CALIBRATED DATA MOUS uid___A001_X1296_X675

Dear AOG,
please create the calibrated MS for MOUS uid___A001_X1296_X675
project 2017.1.00727.S
calfield J0510+1800,J0321+1234
for user Judit Szulagyi
email judits@phys.ethz.ch
helpdesk ticket 16140
`;

const REPLY_ID = '<reply.t16140@calms.test>';

describe('requestSubject', () => {
  it('is the seed subject with the MOUS in file-name form', () => {
    // Act
    const subject = requestSubject('uid___A001_X133d_X1244');

    // Assess
    expect(subject).toBe('ALMA: REQUEST FOR CALIBRATED DATA MOUS uid___A001_X133d_X1244');
  });
});

describe('requestText', () => {
  it('is the seed example word for word, calibrator fields comma-joined without spaces', () => {
    // Prepare
    const request = seedMousRequest();

    // Act
    const text = requestText(request, addresses);

    // Assess
    expect(text).toBe(SEED_TRIGGER_TEXT);
  });

  it('leaves out the calfield line when no calibrator fields were asked for', () => {
    // Prepare
    const request = seedMousRequest({ calibratorFields: [] });

    // Act
    const text = requestText(request, addresses);

    // Assess
    expect(text).toBe(SEED_TRIGGER_TEXT.replace('calfield J0510+1800,J0321+1234\n', ''));
    expect(text).not.toContain('calfield');
  });

  it('writes a single calibrator field without a comma', () => {
    // Prepare
    const request = seedMousRequest({ calibratorFields: ['J0510+1800'] });

    // Act
    const lines = requestText(request, addresses).split('\n');

    // Assess
    expect(lines[7]).toBe('calfield J0510+1800');
    expect(lines[6]).toBe('project 2017.1.00727.S');
    expect(lines[8]).toBe('for user Judit Szulagyi');
  });

  it('names the configured maintainer on the CC line', () => {
    // Prepare
    const request = seedMousRequest();

    // Act
    const text = requestText(request, { aog: 'aog@alma.local', maintainer: 'calms-maintainer@alma.local' });

    // Assess
    expect(text.split('\n')[1]).toBe('CC email calms-maintainer@alma.local');
    expect(text).not.toContain('aog@alma.local');
  });
});

describe('requestEmail', () => {
  it('goes to AOG, CC the ARC contact and the maintainer, with the seed subject and the trigger text as body', () => {
    // Prepare
    const request = seedMousRequest();

    // Act
    const email = requestEmail(request, addresses);

    // Assess
    expect(email).toEqual({
      to: ['aog@eso.org'],
      cc: ['evkampe@eso.org', 'dpetry@eso.org'],
      subject: 'ALMA: REQUEST FOR CALIBRATED DATA MOUS uid___A001_X1296_X675',
      text: SEED_TRIGGER_TEXT,
      messageId: request.requestMessageId,
    });
  });

  it('carries the request Message-ID that later replies thread to', () => {
    // Prepare
    const request = seedMousRequest();

    // Act
    const email = requestEmail(request, addresses);

    // Assess
    expect(email.messageId).toBe('<t16140-uid___A001_X1296_X675-20190902T140027Z-ab12@calms.test>');
    expect(email.inReplyTo).toBeUndefined();
  });
});

describe('outcomeReply', () => {
  const outcomes: [ReplyOutcome, string][] = [
    ['NOT_ENTITLED', 'NOT ENTITLED'],
    ['INVALID_MOUS_UID', 'INVALID MOUS UID'],
    ['MOUS_NOT_DELIVERED', 'MOUS NOT DELIVERED'],
  ];

  it('has the seed word for each outcome', () => {
    // Act
    const words = outcomes.map(([outcome]) => ReplyWord[outcome]);

    // Assess
    expect(words).toEqual(outcomes.map(([, word]) => word));
  });

  describe.each(outcomes)('%s', (outcome, word) => {
    it('replies to the request: Re: subject, same recipients, threaded to its Message-ID', () => {
      // Prepare
      const request = seedMousRequest();

      // Act
      const reply = outcomeReply(request, outcome, addresses, REPLY_ID);

      // Assess
      expect(reply.subject).toBe('Re: ALMA: REQUEST FOR CALIBRATED DATA MOUS uid___A001_X1296_X675');
      expect(reply.to).toEqual(['aog@eso.org']);
      expect(reply.cc).toEqual(['evkampe@eso.org', 'dpetry@eso.org']);
      expect(reply.messageId).toBe(REPLY_ID);
      expect(reply.inReplyTo).toBe(request.requestMessageId);
      expect(reply.references).toEqual([request.requestMessageId]);
    });

    it(`puts ${word} on the first line, above the whole request quoted with "> "`, () => {
      // Prepare
      const request = seedMousRequest();
      const original = SEED_TRIGGER_TEXT.replace(/\n$/, '').split('\n');

      // Act
      const lines = outcomeReply(request, outcome, addresses, REPLY_ID).text.replace(/\n$/, '').split('\n');
      const quoted = lines.slice(lines.findIndex((line) => line.startsWith('>')));

      // Assess
      expect(lines[0]).toBe(word);
      expect(quoted).toHaveLength(original.length);
      expect(quoted.map((line) => line.replace(/^> ?/, ''))).toEqual(original);
      expect(quoted.filter((line) => line !== '>').every((line) => line.startsWith('> '))).toBe(true);
    });
  });

  it('gives the seed text for the helpdesk reply to the user when not entitled', () => {
    // Prepare
    const request = seedMousRequest();

    // Act
    const text = outcomeReply(request, 'NOT_ENTITLED', addresses, REPLY_ID).text;

    // Assess
    expect(NOT_ENTITLED_USER_TEXT).toBe(
      'You presently do not have access permission for the requested data.\nPlease wait until the data becomes public.',
    );
    expect(text).toContain(`\n${NOT_ENTITLED_USER_TEXT}\n`);
    expect(text.indexOf(NOT_ENTITLED_USER_TEXT)).toBeLessThan(text.indexOf('> EU ARC contact'));
  });

  it.each(['INVALID_MOUS_UID', 'MOUS_NOT_DELIVERED'] as const)('does not give the helpdesk text for %s', (outcome) => {
    // Prepare
    const request = seedMousRequest();

    // Act
    const text = outcomeReply(request, outcome, addresses, REPLY_ID).text;

    // Assess
    expect(text).not.toContain('You presently do not have access permission');
  });

  it('is laid out exactly: word, blank line, quoted request', () => {
    // Prepare
    const request = seedMousRequest({ calibratorFields: [] });

    // Act
    const text = outcomeReply(request, 'MOUS_NOT_DELIVERED', addresses, REPLY_ID).text;

    // Assess
    expect(text).toBe(
      [
        'MOUS NOT DELIVERED',
        '',
        '> EU ARC contact evkampe@eso.org',
        '> CC email dpetry@eso.org',
        '> ALMA: REQUEST FOR CALIBRATED DATA MOUS uid___A001_X1296_X675',
        '>',
        '> Dear AOG,',
        '> please create the calibrated MS for MOUS uid___A001_X1296_X675',
        '> project 2017.1.00727.S',
        '> for user Judit Szulagyi',
        '> email judits@phys.ethz.ch',
        '> helpdesk ticket 16140',
        '',
      ].join('\n'),
    );
  });

  it('lays out NOT ENTITLED exactly: word, helpdesk text, quoted request', () => {
    // Prepare
    const request = seedMousRequest({ calibratorFields: [] });

    // Act
    const text = outcomeReply(request, 'NOT_ENTITLED', addresses, REPLY_ID).text;

    // Assess
    expect(text.split('\n').slice(0, 8)).toEqual([
      'NOT ENTITLED',
      '',
      'Text for the helpdesk reply to the user:',
      '',
      'You presently do not have access permission for the requested data.',
      'Please wait until the data becomes public.',
      '',
      '> EU ARC contact evkampe@eso.org',
    ]);
  });
});
