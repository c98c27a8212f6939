//! Every redb table of Kinerja in one place, so the on-disk layout can be read at a glance.
//! Keys are `/`-joined ids (ids cannot contain `/`, see `domain::validate_id`), values are JSON,
//! which keeps records readable with any redb tool and lets fields be added compatibly.

use redb::TableDefinition;

pub type JsonTable = TableDefinition<'static, &'static str, &'static [u8]>;

/// `layout` → the data layout the database is written in (`store::LAYOUT`).
pub const META: TableDefinition<'static, &'static str, u64> = TableDefinition::new("meta");

/// `region` → the region's row (id, name, level; its time zone is in REGION_REPORTING).
pub const REGIONS: JsonTable = TableDefinition::new("regions");
/// `region/agency` → Agency.
pub const AGENCIES: JsonTable = TableDefinition::new("agencies");
/// `region/position` → Position.
pub const POSITIONS: JsonTable = TableDefinition::new("positions");
/// `region/nip` → Employee (with its position history).
pub const EMPLOYEES: JsonTable = TableDefinition::new("employees");
/// `region/nip/period` → the period record, its SKP input nested (see `store::period_row`).
pub const PERIODS: JsonTable = TableDefinition::new("periods");
/// `region/nip/YYYY-MM-DD/seq` → Activity; the date in the key makes range reads by date cheap.
pub const ACTIVITIES: JsonTable = TableDefinition::new("activities");
/// `region/nip/year` → the employee's SKP of that year (see `store::skp`).
pub const SKPS: JsonTable = TableDefinition::new("skps");
/// sha256 → an evidence file's bytes (PDF, PNG or JPEG, at most 2 MiB), kept once however many
/// SKPs refer to it.
pub const EVIDENCE: JsonTable = TableDefinition::new("evidence");
/// report id → its key in `ACTIVITIES` (see `store::reports`).
pub const ACTIVITY_IDS: TableDefinition<'static, u64, &'static str> =
    TableDefinition::new("activity_ids");
/// `region/nip/YYYY-MM-DD` → the minutes of that day's approved reports, all an appraisal
/// reads of them.
pub const DAY_MINUTES: TableDefinition<'static, &'static str, u64> =
    TableDefinition::new("day_minutes");
/// `region/created_at/id` → the key of a pending report, oldest first (for auto-approval).
pub const PENDING_REPORTS: TableDefinition<'static, &'static str, &'static str> =
    TableDefinition::new("pending_reports");
/// `region` → ReportingRules, for regions that changed the defaults.
pub const REGION_REPORTING: JsonTable = TableDefinition::new("region_reporting");
/// token id → TokenRecord (hash only, never the secret).
pub const TOKENS: JsonTable = TableDefinition::new("tokens");
/// sha256(secret) hex → token id, to find a token without scanning.
pub const TOKEN_BY_HASH: TableDefinition<'static, &'static str, &'static str> =
    TableDefinition::new("token_by_hash");
/// In the system file, sha256(secret) hex → region: the region tokens issued before region
/// files, whose secrets do not name their region (see `store::migrate`).
pub const TOKEN_REGIONS: TableDefinition<'static, &'static str, &'static str> =
    TableDefinition::new("token_regions");
/// `region/nip` → an employee's password (argon2id PHC string) and whether it must be changed;
/// see `store::sessions`.
pub const CREDENTIALS: JsonTable = TableDefinition::new("credentials");
/// `region/nip/token id` → expiry, the sign-in sessions of one employee (to end them all when
/// the password changes).
pub const SESSIONS: TableDefinition<'static, &'static str, &'static str> =
    TableDefinition::new("sessions");
/// `expires_at/token id` → `region/nip`, the sessions in expiry order (to purge the expired).
pub const SESSION_EXPIRY: TableDefinition<'static, &'static str, &'static str> =
    TableDefinition::new("session_expiry");
/// `region/nip/seq` (zero-padded) → a feedback note to that employee, oldest first.
pub const FEEDBACK: JsonTable = TableDefinition::new("feedback");
/// survey code → where its answer counts and whether it was used; see `store::surveys`.
pub const SURVEY_CODES: JsonTable = TableDefinition::new("survey_codes");
/// `region/agency/unit|*/period` → the summed answers of a unit's survey.
pub const SURVEY_TALLIES: JsonTable = TableDefinition::new("survey_tallies");
/// zero-padded sequence → AuditEvent.
pub const AUDIT: JsonTable = TableDefinition::new("audit");
/// `region/nip/seq` → seq: the audit events about one employee (see `store::audit`).
pub const AUDIT_BY_EMPLOYEE: TableDefinition<'static, &'static str, u64> =
    TableDefinition::new("audit_by_employee");
/// counter name → next value.
pub const COUNTERS: TableDefinition<'static, &'static str, u64> = TableDefinition::new("counters");
/// sha256 → PluginMeta (one row per region that uploaded it lives in PLUGIN_REGIONS).
pub const PLUGINS: JsonTable = TableDefinition::new("plugins");
/// sha256 → the module's bytes.
pub const PLUGIN_BYTES: JsonTable = TableDefinition::new("plugin_bytes");
/// `region/sha256` → PluginUpload (who uploaded it to that region and when).
pub const PLUGIN_REGIONS: JsonTable = TableDefinition::new("plugin_regions");
/// `region/hook` → Activation currently in force.
pub const POLICIES: JsonTable = TableDefinition::new("policies");
/// `region/seq` → Activation or deactivation, the history a rollback chooses from.
pub const POLICY_HISTORY: JsonTable = TableDefinition::new("policy_history");
/// decision id → a decision's own fields (case, NIP, and its output, or where that lies in
/// its call's stdout in `OUTPUTS`) and the key of its call in `DECISION_CALLS`; rows written
/// before that table existed hold every field. See `store::decision_row`.
pub const DECISIONS: JsonTable = TableDefinition::new("decisions");
/// id of a call's first decision → the fields the decisions of that plugin call share
/// (module, hashes, period, time, actor, fuel, logs); see `store::decision_row`.
pub const DECISION_CALLS: JsonTable = TableDefinition::new("decision_calls");
/// `region/nip/period-end/decision id` → decision id, for an employee's results newest first
/// and the latest predikat as of a date.
pub const APPRAISALS_BY_EMPLOYEE: TableDefinition<'static, &'static str, &'static str> =
    TableDefinition::new("appraisals_by_employee");
/// `region/agency/period` → organisational predikat.
pub const ORG_PREDIKAT: JsonTable = TableDefinition::new("org_predikat");
/// sha256 → the exact request bytes a plugin was given (zstd, see `blob`), shared by the
/// decisions of one call, so a replay can feed the module the very same input.
pub const INPUTS: JsonTable = TableDefinition::new("inputs");
/// sha256 → the exact stdout of a call (zstd), so a replay can be compared byte for byte and a
/// decision whose stored output was altered is caught; most decisions' outputs are read from
/// here.
pub const OUTPUTS: JsonTable = TableDefinition::new("outputs");

/// What is done to each table of the layout, whatever its key and value types: opening them
/// all at the first start, and copying and digesting them all in a backup.
pub(crate) trait EachTable {
    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &mut self,
        t: TableDefinition<'static, K, V>,
    ) -> super::Result<()>;
}

/// Every table of the layout, in a fixed order: the one list of them.
pub(crate) fn each_table(f: &mut impl EachTable) -> super::Result<()> {
    for t in [
        REGIONS,
        AGENCIES,
        POSITIONS,
        EMPLOYEES,
        PERIODS,
        ACTIVITIES,
        SKPS,
        EVIDENCE,
        REGION_REPORTING,
        TOKENS,
        CREDENTIALS,
        FEEDBACK,
        SURVEY_CODES,
        SURVEY_TALLIES,
        AUDIT,
        PLUGINS,
        PLUGIN_BYTES,
        PLUGIN_REGIONS,
        POLICIES,
        POLICY_HISTORY,
        DECISIONS,
        DECISION_CALLS,
        ORG_PREDIKAT,
        INPUTS,
        OUTPUTS,
    ] {
        f.table(t)?;
    }
    f.table(ACTIVITY_IDS)?;
    f.table(DAY_MINUTES)?;
    f.table(AUDIT_BY_EMPLOYEE)?;
    f.table(COUNTERS)?;
    f.table(META)?;
    for t in [
        PENDING_REPORTS,
        TOKEN_BY_HASH,
        TOKEN_REGIONS,
        SESSIONS,
        SESSION_EXPIRY,
        APPRAISALS_BY_EMPLOYEE,
    ] {
        f.table(t)?;
    }
    Ok(())
}
