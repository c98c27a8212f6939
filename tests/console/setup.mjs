// Issues the tokens the browser tests sign in with, through the API as the bootstrap admin,
// and picks the employees they use. Prints `export NAME=value` lines for the shell.
// Usage: node setup.mjs <base-url> <admin-token>

const [base, admin] = process.argv.slice(2);
const REGION = 'jambi';
const AGENCY = 'diskominfo';

async function call(method, path, token, body) {
  const resp = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await resp.text();
  if (!resp.ok) throw new Error(`${method} ${path}: ${resp.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const issue = async (by, scope) => (await call('POST', '/api/v1/tokens', by, scope)).token;

const ra = await issue(admin, { role: 'region_admin', region: REGION, label: 'BKD Jambi (uji konsol)' });
const agency = await issue(ra, { role: 'agency', region: REGION, agency: AGENCY, label: 'Diskominfo (uji konsol)' });

// The employee: one of the agency with a period record rated by a supervisor, so the
// appraisal run gives it a result; another employee, outside their team, for the 403 check.
const emps = (await call('GET', `/api/v1/regions/${REGION}/employees?agency=${AGENCY}&limit=1000`, admin)).items;
let nip = null;
let supervisor = null;
for (const e of emps) {
  const periods = (await call('GET', `/api/v1/regions/${REGION}/employees/${e.nip}/periods`, admin)).items;
  if (periods.some((p) => p.behavior && p.behavior.supervisor && Object.keys(p.behavior.supervisor).length > 0)) {
    // And one with a supervisor in the chart, who rates and writes to them in the console.
    const full = await call('GET', `/api/v1/regions/${REGION}/employees/${e.nip}`, admin);
    if (!full.supervisor) continue;
    nip = e.nip;
    supervisor = full.supervisor.nip;
    break;
  }
}
if (!nip) throw new Error('no demo employee with a rated period record');
// The other employee is neither the employee nor their supervisor nor one of their direct
// reports (whose pages a supervisor may read), so the employee's token is refused it.
const reports = new Set((await call('GET', `/api/v1/regions/${REGION}/employees/${nip}/subordinates`, admin)).items.map((e) => e.nip));
const stranger = emps.find((e) => e.nip !== nip && e.nip !== supervisor && !reports.has(e.nip));
if (!stranger) throw new Error('no demo employee outside the employee\'s own team');
const other = stranger.nip;
const employee = await issue(ra, { role: 'employee', region: REGION, nip, label: 'Pegawai (uji konsol)' });
const sup = await issue(ra, { role: 'employee', region: REGION, nip: supervisor, label: 'Atasan (uji konsol)' });

const out = {
  RA_TOKEN: ra, AGENCY_TOKEN: agency, EMP_TOKEN: employee, EMP_NIP: nip, OTHER_NIP: other,
  SUP_TOKEN: sup, SUP_NIP: supervisor,
  TEST_REGION: REGION, TEST_AGENCY: AGENCY,
};
for (const [k, v] of Object.entries(out)) console.log(`export ${k}='${v}'`);
