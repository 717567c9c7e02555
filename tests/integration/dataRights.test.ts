/**
 * Data rights end to end on the local cloud: a calibrator-only request releases calibrators only, and the
 * entitlement check cannot be skipped.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { mailbox, postRequest, s3, service, sfn } from './support/clients';

/** The seed's calibrator example: a MOUS proprietary until 2099, and its science target. */
const PROPRIETARY_MOUS = 'uid___A001_X159a_X6b';
const ITS_TARGET = 'IRAS_04302+2247';

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await s3().send(new ListObjectsV2Command({ Bucket: service().dataBucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key!);
}

async function executionNames(): Promise<string[]> {
  const listed = await sfn().send(new ListExecutionsCommand({ stateMachineArn: service().stateMachineArn, maxResults: 1000 }));
  return (listed.executions ?? []).map((execution) => execution.name!);
}

describe('data rights', () => {
  test('the attack: a stranger asks calibrator-only for a proprietary MOUS naming its science target; refused at intake, nothing written, sent or started', async () => {
    // Prepare
    const ticket = '79001';
    const [claimsBefore, triggersBefore] = [await keysUnder('claims/'), await keysUnder('triggers/')];

    // Act
    const response = await postRequest({
      projectCode: '2021.1.01582.S',
      userName: 'Nobody Known',
      userEmail: 'nobody@example.org',
      helpdeskTicket: ticket,
      arcContact: 'arc.staff@example.org',
      mous: ['uid://A001/X159a/X6b'],
      calibratorFields: [ITS_TARGET],
    });

    // Assess
    expect(response.status).toBe(422);
    expect(response.body.results).toEqual([
      {
        mous: PROPRIETARY_MOUS,
        outcome: 'rejected',
        error: {
          code: 'NOT_A_CALIBRATOR',
          message: `${ITS_TARGET} is a science target of ${PROPRIETARY_MOUS}: calibrator-only requests may name calibrators only`,
        },
      },
    ]);
    expect(await keysUnder('claims/')).toEqual(claimsBefore);
    expect(await keysUnder('triggers/')).toEqual(triggersBefore);
    expect((await executionNames()).filter((name) => name.startsWith(`t${ticket}-${PROPRIETARY_MOUS}-`))).toEqual([]);
    expect((await mailbox()).filter((mail) => mail.text.includes(`helpdesk ticket ${ticket}`))).toEqual([]);
  });
});
