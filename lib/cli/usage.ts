import { VARIABLES } from '../config';
import { CLI_CONFIG_FILE_SHOWN } from './configFile';

const ENVIRONMENT = `Environment (or NAME=value lines in ${CLI_CONFIG_FILE_SHOWN}; the environment wins):
  CALMS_API_URL       Base URL of the CalMS API (default ${VARIABLES.CALMS_API_URL.default})
  CALMS_API_KEY       API key of the CalMS API, sent as x-api-key
  CALMS_ARC_CONTACT   Your address as EU ARC contact: calms request then needs no --arc-contact
`;

export const MAIN_USAGE = `calms - calibrated MS on request, for ALMA EU ARC staff

Usage:
  calms request <proj code> "<user name>" "<user email>" <ticket> <MOUS UID> ["<calibrator fields>"] [--arc-contact <email>] [--force | --abort-on-duplicate]
  calms request --help
  calms queue [--json]
  calms status <request id> | --ticket <ticket> | --mous <MOUS UID> [--json]
  calms triggers [--json]
  calms stats [--from YYYY-MM] [--to YYYY-MM] [--csv | --json]
  calms cancel <request id> [--json]
  calms keep <request id> [--undo] [--json]
  calms resend <request id> [--json]
  calms redrive <request id> [--json]
  calms doctor [--json]
  calms --help

Commands:
  request   Ask AOG for the calibrated MS of one MOUS of a helpdesk ticket
            (what triggerCalMSCreation.sh did). Run "calms request --help" for details.
  queue     Show who holds the staging slots and who waits for one, in order.
            Run "calms queue --help" for details.
  status    Show where a request is, how it ended, its delivery link and expiry.
  triggers  List the active triggers: the MOUS still in work (or failed and not cleared).
  stats     The stats sheet: requests, outcomes, turnaround, re-use and bytes per month;
            --csv for a spreadsheet.
  cancel    Stop a request: its execution, its calibration job, its slot, its trigger;
            the ARC contact is told.
  keep      Keep a delivery beyond its expiry (the .donotremove), or with --undo let it expire.
  resend    Send the user's download email again.
  redrive   Resume a failed request where it failed, once its cause is fixed.
  doctor    The smoke check of a deployment: the API, the state machine, the bucket's lifecycle
            rules, the archive, the SMTP relay and each cluster node, one line each.
            Run "calms <command> --help" for details of each.

${ENVIRONMENT}`;

export const REQUEST_USAGE = `Usage:
  calms request <proj code> "<user name>" "<user email>" <ticket> <MOUS UID> ["<calibrator fields>"] [--arc-contact <email>] [--force | --abort-on-duplicate]

Requests the calibrated MS of one MOUS for the user of a helpdesk ticket, in the argument order of
triggerCalMSCreation.sh. CalMS checks the request and the archive (Cycle 0 projects and MOUS without
QA0_PASS data are refused), records the trigger, emails AOG (CC you) and starts the processing.
Run it once per MOUS of the ticket.

Arguments:
  <proj code>             Project code, e.g. 2017.1.00727.S
  "<user name>"           Official user name from the helpdesk profile
  "<user email>"          Official user email from the helpdesk profile
  <ticket>                Helpdesk ticket number
  <MOUS UID>              uid://A001/X1296/X675 or uid___A001_X1296_X675
  "<calibrator fields>"   Optional: only these calibrator fields, comma-separated, no spaces

Options:
  --arc-contact <email>   Your address as the EU ARC contact of the ticket; needed unless
                          CALMS_ARC_CONTACT gives it
  -f, --force             Go on even if a trigger for the MOUS is still active (creates a second one)
  --abort-on-duplicate    If a trigger for the MOUS is still active, abort without asking (for scripts)
  -h, --help              Show this help

If a trigger for the MOUS is still active, calms names it and asks "Abort this duplicate request? [Y/n]"
(Enter aborts, n sends it again with force). Without a terminal to ask on it aborts.

Exit status:
  0  accepted
  1  refused by CalMS (Cycle 0, no QA0_PASS data, wrong project, unknown calibrator field)
  2  wrong arguments or configuration, or a value CalMS found invalid
  3  aborted because a trigger for the MOUS is still active
  4  CalMS could not be reached or could not take the request; try again later

Examples:
  calms request 2017.1.00727.S "Judit Szulagyi" judits@phys.ethz.ch 16140 uid://A001/X1296/X675 --arc-contact evkampe@eso.org
  calms request 2021.1.01582.S "Franco Nero" "franco@gmail.com" 12345 uid://A001/X159a/X6b "J0510+1800,J0321+1234" --arc-contact evkampe@eso.org

${ENVIRONMENT}`;

export const QUEUE_USAGE = `Usage:
  calms queue [--json]

Shows the staging slots (how many requests may calibrate and stage on the cluster at once), which requests
hold them and since when, and which requests wait for one, oldest first. A request takes the next free slot
in arrival order; a holder keeps its slot while it renews its lease (until its processing ends).

Options:
  --json       Print the answer of GET /queue as JSON ({ slots, holders, waiting }) instead of the table
  -h, --help   Show this help

Exit status:
  0  shown
  2  wrong arguments or configuration
  4  CalMS could not be reached, refused the API key, or could not answer now

Example:
  $ calms queue
  Staging slots: 2 of 2 in use
    1  uid___A001_X1296_X675   helpdesk ticket 16140  since 2026-11-24 23:21:06Z  (lease until 2026-11-24 23:51:06Z)  request t16140-…
    2  uid___A001_X133d_X3cf3  helpdesk ticket 16267  since 2026-11-24 23:21:09Z  (lease until 2026-11-24 23:51:09Z)  request t16267-…
  Waiting (oldest first):
    1  uid___A001_X159a_X6b  helpdesk ticket 12345  arrived 2026-11-24 23:21:20Z  request t12345-…

${ENVIRONMENT}`;

const OPERATOR_EXIT = `Exit status:
  0  done
  1  CalMS said no: unknown request, nothing found, or not possible now (the message says why)
  2  wrong arguments or configuration
  4  CalMS could not be reached, refused the API key, or could not answer now; try again later
`;

export const STATUS_USAGE = `Usage:
  calms status <request id> [--json]
  calms status --ticket <ticket> [--json]
  calms status --mous <MOUS UID> [--json]

Shows a request as Step Functions and the data bucket know it: whether it runs and in which state, or how
it ended (and why, if it failed); its ticket, MOUS, user and ARC contact; when it started and stopped; and,
once published, its download link, expiry and whether it is kept. With --ticket or --mous, every request of
that helpdesk ticket or MOUS, newest first.

Options:
  --ticket <ticket>     All requests of a helpdesk ticket
  --mous <MOUS UID>     All requests of a MOUS (uid://A001/X1296/X675 or uid___A001_X1296_X675)
  --json                Print the answer of GET /requests/<id> (or GET /requests?ticket=…) as JSON
  -h, --help            Show this help

${OPERATOR_EXIT}
Example:
  $ calms status t16140-uid___A001_X1296_X675-20261124T232106Z-ab12
  Request t16140-uid___A001_X1296_X675-20261124T232106Z-ab12
    status           SUCCEEDED, ended in Delivered
    MOUS             uid___A001_X1296_X675, project 2017.1.00727.S
    helpdesk ticket  16140
    user             Judit Szulagyi <judits@phys.ethz.ch>
    ARC contact      evkampe@eso.org
    trigger          trigger-uid___A001_X1296_X675-2026-11-24T23-21-06.txt
    started          2026-11-24 23:21:06Z
    stopped          2026-11-24 23:52:40Z
    delivery         https://…/downloads/8672af71…
                     staged 2026-11-24 23:52:31Z, expires 2026-12-22 23:52:31Z

${ENVIRONMENT}`;

export const TRIGGERS_USAGE = `Usage:
  calms triggers [--json]

Lists the active triggers, oldest first: one per MOUS whose request is still in work, or failed and kept for
the maintainer. A new request for such a MOUS is refused as a duplicate unless forced.

Options:
  --json       Print the answer of GET /triggers as JSON
  -h, --help   Show this help

${OPERATOR_EXIT}
${ENVIRONMENT}`;

export const STATS_USAGE = `Usage:
  calms stats [--from YYYY-MM] [--to YYYY-MM] [--csv | --json]

The stats sheet, per month in which requests were made (UTC) and overall: requests, how they ended
(delivered, not entitled, invalid MOUS UID, MOUS not delivered, failed, cancelled) and how many are still in
progress, the median and 90th-percentile turnaround of deliveries (nearest-rank), the re-use rate, the bytes
delivered and the bytes re-use saved the cluster. Every month of the range has a row, months without requests
too. Without --from it starts at the first month with a request; without --to it ends this month.

Options:
  --from YYYY-MM   First month
  --to YYYY-MM     Last month
  --csv            Print it as CSV (RFC 4180: header, one row per month, then "overall") for a spreadsheet;
                   turnaround in seconds, re-use rate between 0 and 1, empty where there were no deliveries
  --json           Print the answer of GET /statistics as JSON
  -h, --help       Show this help

${OPERATOR_EXIT}
Example:
  $ calms stats --from 2026-10 --csv > calms-stats.csv

${ENVIRONMENT}`;

export const CANCEL_USAGE = `Usage:
  calms cancel <request id> [--json]

Cancels a request that is still running: stops its execution, then its calibration job on the cluster if one
runs (its work directory is kept), gives back its staging slot or queue place, discards unfinished uploads,
removes its trigger, and emails the ARC contact "CANCELLED" (CC the maintainer and AOG), threaded to the
request. On a request that failed it gives the request up the same way (it cannot be re-driven after).
Running it again on a cancelled request does the clean-up again without a second email; a request that
ended well cannot be cancelled (exit 1).

Options:
  --json       Print the answer of POST /requests/<id>/cancel as JSON
  -h, --help   Show this help

${OPERATOR_EXIT}
${ENVIRONMENT}`;

export const KEEP_USAGE = `Usage:
  calms keep <request id> [--undo] [--json]

Keeps the delivery of a request beyond its expiry (the .donotremove of the old procedure): the bucket's
lifecycle rule passes it by and its link keeps working. With --undo it expires again, counted from staging.

Options:
  --undo       Release a kept delivery
  --json       Print the answer of POST (or, with --undo, DELETE) /requests/<id>/keep as JSON
  -h, --help   Show this help

${OPERATOR_EXIT}
${ENVIRONMENT}`;

export const RESEND_USAGE = `Usage:
  calms resend <request id> [--json]

Sends the user's download email of a delivered request again: the same text and link, to the same
addresses, under a Message-ID of its own. Refused (exit 1) for a request not delivered or whose delivery
has expired or been deleted.

Options:
  --json       Print the answer of POST /requests/<id>/resend as JSON
  -h, --help   Show this help

${OPERATOR_EXIT}
${ENVIRONMENT}`;

export const REDRIVE_USAGE = `Usage:
  calms redrive <request id> [--json]

Resumes a failed request where it failed, once the maintainer has fixed the cause the failure email named.
It runs as a new execution, <request id>-redrive-<n>, that starts in the failed state: tarballs already
staged are not uploaded again, a calibration that succeeded is not run again (a failed one is, after the
request has a staging slot again), and no email already sent goes out again. A failure of the re-drive is
reported anew and can be re-driven in turn. Refused (exit 1) for a request that is running, has ended well
or was cancelled.

Options:
  --json       Print the answer of POST /requests/<id>/redrive as JSON
  -h, --help   Show this help

${OPERATOR_EXIT}
${ENVIRONMENT}`;

export const DOCTOR_USAGE = `Usage:
  calms doctor [--json]

Checks that a deployment works, one line per check, "ok" or "FAIL" first and, on failure, what to fix:
  - the API answers at CALMS_API_URL and takes CALMS_API_KEY;
  and through GET /doctor, from where the functions run:
  - the state machine exists;
  - the data bucket carries both lifecycle rules (deliveries expire, incomplete uploads are aborted);
  - the archive answers a lookup;
  - the SMTP relay accepts a session (STARTTLS and the login as configured; no mail is sent);
  - each cluster node lets the cluster user in with its pinned host key (and runs "true").
Each server-side check gives up after 15 s, so a dead host is a failed line, not a hang.

Options:
  --json       Print every check as JSON ({ checks: [{ name, ok, detail, fix? }] })
  -h, --help   Show this help

Exit status:
  0  every check passed
  1  a check failed
  2  wrong arguments or configuration
  4  the API could not be reached, refused the API key, or could not run the checks

Example:
  $ calms doctor
  ok    API https://abc123.execute-api.eu-west-1.amazonaws.com/prod: answers with the API key
  ok    state machine: calms-prod exists (ACTIVE)
  ok    data bucket calms-prod-data: carries the lifecycle rules expire-deliveries and abort-incomplete-uploads
  ok    archive: answers a lookup
  FAIL  SMTP relay email-smtp.eu-west-1.amazonaws.com:587: … no answer within 15 s Fix: Check that the relay runs …
  ok    SSH node1.arc.example.org:22: lets the cluster user in, with the pinned host key

${ENVIRONMENT}`;
