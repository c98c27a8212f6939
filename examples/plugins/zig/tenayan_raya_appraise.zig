//! Kecamatan Tenayan Raya's `appraise` hook in Zig (0.14), ABI 1.
//!
//! Reads the request (one JSON document) from stdin, writes the response (one JSON document) to
//! stdout, and exports `appraise` of type () -> (). No libc: Zig's standard library talks to
//! `wasi_snapshot_preview1` directly, and std.json parses the request.
//! Formulas: docs/region-policies.md, "Shared definitions" and "Tenayan Raya".
//!
//! Build: ./build.sh  (zig build-exe -target wasm32-wasi -fno-entry -rdynamic …)

const std = @import("std");
const json = std.json;
const Value = json.Value;

const values = [7][]const u8{ "berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif" };

const Rating = enum { di_atas, sesuai, di_bawah };
const Predikat = enum { sangat_baik, baik, butuh_perbaikan, kurang, sangat_kurang };

/// A refusal: the message is kept here and the request answered with {"error": {"message": …}}.
var refusal_buf: [512]u8 = undefined;
var refusal: []const u8 = "";
const Refused = error{Refused};

fn refuse(comptime fmt: []const u8, args: anytype) Refused {
    refusal = std.fmt.bufPrint(&refusal_buf, fmt, args) catch "refused (message too long)";
    return error.Refused;
}

// ---- shared rules (region-policies.md, "Shared definitions") ---------------------------------

/// x rounded to 9 decimals; @round is half away from zero.
fn round9(x: f64) f64 {
    if (!std.math.isFinite(x) or @abs(x) >= 1e9) return x;
    return @round(x * 1e9) / 1e9;
}
fn ge9(a: f64, b: f64) bool {
    return round9(a) >= round9(b);
}
fn lt9(a: f64, b: f64) bool {
    return round9(a) < round9(b);
}

/// 2 decimals, half away from zero, decided on the 9-decimal value in integer billionths.
fn round2(x: f64) f64 {
    if (!std.math.isFinite(x)) return x;
    const nanos = @round(x * 1e9);
    if (@abs(nanos) >= 9.0e18) return @round(x * 100.0) / 100.0;
    const n: i64 = @intFromFloat(nanos);
    const hundredths: f64 = @floatFromInt((@abs(n) + 5_000_000) / 10_000_000);
    return (if (n < 0) -hundredths else hundredths) / 100.0;
}

fn matrix(hk: Rating, pk: Rating) Predikat {
    return switch (hk) {
        .di_atas => switch (pk) {
            .di_atas => .sangat_baik,
            .sesuai => .baik,
            .di_bawah => .kurang,
        },
        .sesuai => if (pk == .di_bawah) .kurang else .baik,
        .di_bawah => if (pk == .di_bawah) .sangat_kurang else .butuh_perbaikan,
    };
}

// ---- reading the request ---------------------------------------------------------------------

fn get(v: ?Value, key: []const u8) ?Value {
    const o = v orelse return null;
    return switch (o) {
        .object => |m| m.get(key),
        else => null,
    };
}

/// An optional block: absent, null and empty ({} or []) all mean absent.
fn present(v: ?Value) ?Value {
    const x = v orelse return null;
    return switch (x) {
        .null => null,
        .array => |a| if (a.items.len == 0) null else x,
        .object => |o| if (o.count() == 0) null else x,
        else => x,
    };
}

fn num(v: ?Value) ?f64 {
    const x = v orelse return null;
    return switch (x) {
        .integer => |i| @floatFromInt(i),
        .float => |f| f,
        .number_string => |s| std.fmt.parseFloat(f64, s) catch null,
        else => null,
    };
}

fn ratings(rater: ?Value, who: []const u8) Refused![7]u8 {
    var out: [7]u8 = undefined;
    const r = rater orelse return refuse("{s}: expected an object of seven ratings", .{who});
    if (r != .object) return refuse("{s}: expected an object of seven ratings", .{who});
    for (values, 0..) |name, i| {
        const x = num(get(r, name)) orelse return refuse("{s}: missing rating {s}", .{ who, name });
        if (x != @floor(x) or x < 1 or x > 5)
            return refuse("{s}: {s} is rated {d}; ratings must be integers from 1 to 5", .{ who, name, x });
        out[i] = @intFromFloat(x);
    }
    return out;
}

fn mean7(r: [7]u8) f64 {
    var sum: u32 = 0;
    for (r) |x| sum += x;
    return @as(f64, @floatFromInt(sum)) / 7.0;
}

// ---- the policy ------------------------------------------------------------------------------

const Part = struct { name: []const u8, value: f64, weight: f64 };

fn appraiseCase(alloc: std.mem.Allocator, c: Value, w: anytype) !void {
    const nip = switch (get(get(c, "employee"), "nip") orelse Value{ .null = {} }) {
        .string => |s| s,
        else => return refuse("employee.nip: expected a string", .{}),
    };
    const wd = num(get(get(c, "period"), "working_days")) orelse 0;
    if (wd < 1) return refuse("period.working_days must be at least 1", .{});

    // HK = C: weighted mean of capaian, weights default 1, no indicators → 0.
    var weighted: f64 = 0;
    var total_weight: f64 = 0;
    var n_ind: usize = 0;
    if (present(get(c, "indicators"))) |inds| {
        if (inds != .array) return refuse("indicators: expected an array", .{});
        for (inds.array.items, 0..) |ind, k| {
            n_ind += 1;
            const t = num(get(ind, "target")) orelse 0;
            if (!(t > 0)) return refuse("indicators[{d}]: target must be > 0", .{k});
            const dir = get(ind, "direction") orelse Value{ .null = {} };
            if (dir != .string) return refuse("indicators[{d}]: direction missing", .{k});
            const lower = std.mem.eql(u8, dir.string, "lower_is_better");
            if (!lower and !std.mem.eql(u8, dir.string, "higher_is_better"))
                return refuse("indicators[{d}]: unknown direction {s}", .{ k, dir.string });
            var weight: f64 = 1;
            if (get(ind, "weight")) |wv| if (wv != .null) {
                weight = num(wv) orelse return refuse("indicators[{d}]: weight must be a number", .{k});
                if (!(weight >= 0)) return refuse("indicators[{d}]: weight must be >= 0", .{k});
            };
            var cap: f64 = 0; // a null realization counts 0
            if (get(ind, "realization")) |rv| if (rv != .null) {
                const r = num(rv) orelse return refuse("indicators[{d}]: realization must be a number", .{k});
                const ratio = r / t;
                cap = std.math.clamp(if (lower) 100.0 * (2.0 - ratio) else 100.0 * ratio, 0.0, 120.0);
            };
            weighted += cap * weight;
            total_weight += weight;
        }
    }
    if (n_ind > 0 and !(total_weight > 0)) return refuse("indicators: the weights add up to 0", .{});
    const hk: f64 = if (n_ind > 0) weighted / total_weight else 0;
    const hasil: Rating = if (ge9(hk, 110)) .di_atas else if (ge9(hk, 90)) .sesuai else .di_bawah;

    // Behaviour 360°: S supervisor (0.5), R peers (0.3), U public (0.2), renormalised.
    const behavior = get(c, "behavior");
    const sup = try ratings(get(behavior, "supervisor"), "behavior.supervisor");
    var parts: [3]Part = undefined;
    var np: usize = 0;
    parts[np] = .{ .name = "supervisor", .value = mean7(sup), .weight = 0.5 };
    np += 1;
    if (present(get(behavior, "peers"))) |peers| {
        if (peers != .array) return refuse("behavior.peers: expected an array", .{});
        var sum: f64 = 0;
        for (peers.array.items, 0..) |p, i| {
            var who_buf: [32]u8 = undefined;
            const who = std.fmt.bufPrint(&who_buf, "behavior.peers[{d}]", .{i}) catch "behavior.peers";
            sum += mean7(try ratings(p, who));
        }
        parts[np] = .{ .name = "peers", .value = sum / @as(f64, @floatFromInt(peers.array.items.len)), .weight = 0.3 };
        np += 1;
    }
    if (present(get(behavior, "self"))) |s| _ = try ratings(s, "behavior.self");

    var ikm: ?f64 = null; // a survey nobody answered is ignored
    if (present(get(c, "public_feedback"))) |pf| {
        const n = num(get(pf, "respondents")) orelse -1;
        if (n < 0) return refuse("public_feedback.respondents: expected a count", .{});
        if (n > 0) {
            const i = num(get(pf, "ikm")) orelse 0;
            if (!(i >= 1 and i <= 4)) return refuse("public_feedback.ikm must be within 1–4, got {d}", .{i});
            ikm = i;
            parts[np] = .{ .name = "public", .value = 1.0 + (i - 1.0) * 4.0 / 3.0, .weight = 0.2 };
            np += 1;
        }
    }
    var wsum: f64 = 0;
    var bsum: f64 = 0;
    for (parts[0..np]) |p| wsum += p.weight;
    for (parts[0..np]) |p| bsum += p.value * p.weight;
    const b = bsum / wsum;

    const rated_one = std.mem.indexOfScalar(u8, &sup, 1) != null;
    const perilaku: Rating = if (lt9(b, 3.0) or rated_one) .di_bawah else if (ge9(b, 4.25)) .di_atas else .sesuai;
    const pred = matrix(hasil, perilaku);
    const raw = 0.6 * hk + 0.4 * (20.0 * b);
    if (!std.math.isFinite(raw)) return refuse("score is not a finite number: some input is out of range", .{});
    const score = round2(raw);
    const poor_service = if (ikm) |i| lt9(i * 25.0, 76.61) else false;

    // ---- the result ----
    try w.writeAll("{\"nip\":");
    try json.stringify(nip, .{}, w);
    try w.print(",\"hasil_kerja\":\"{s}\",\"perilaku_kerja\":\"{s}\",\"predikat\":\"{s}\",\"score\":{d}", .{ @tagName(hasil), @tagName(perilaku), @tagName(pred), score });
    try w.print(",\"components\":[{{\"name\":\"capaian\",\"value\":{d}}}", .{hk});
    for (parts[0..np]) |p| try w.print(",{{\"name\":\"{s}\",\"value\":{d},\"weight\":{d}}}", .{ p.name, p.value, p.weight / wsum });
    try w.print(",{{\"name\":\"behavior\",\"value\":{d}}}]", .{b});

    // Recommendations in the policy order (none can repeat in this region).
    try w.writeAll(",\"recommendations\":[");
    var sep: []const u8 = "";
    if (pred == .sangat_baik) {
        try w.writeAll("{\"kind\":\"reward\"}");
        sep = ",";
    }
    if (pred == .butuh_perbaikan or pred == .kurang or pred == .sangat_kurang) {
        try w.print("{s}{{\"kind\":\"coaching\"}}", .{sep});
        sep = ",";
    }
    if (poor_service) {
        try w.print("{s}{{\"kind\":\"training\",\"subject\":\"pelayanan_prima\"}}", .{sep});
        sep = ",";
    }
    for (sup, 0..) |r, i| if (r <= 2) {
        try w.print("{s}{{\"kind\":\"training\",\"subject\":\"{s}\"}}", .{ sep, values[i] });
        sep = ",";
    };
    try w.writeAll("]");

    var ex = std.ArrayList(u8).init(alloc);
    const ew = ex.writer();
    try ew.print("HK {d:.2} {s} → {s}; B from", .{ round2(hk), switch (hasil) {
        .di_atas => "≥ 110",
        .sesuai => "≥ 90",
        .di_bawah => "< 90",
    }, @tagName(hasil) });
    for (parts[0..np], 0..) |p, i| try ew.print("{s} {s} {d:.2} (weight {d:.2})", .{ if (i > 0) "," else "", p.name, round2(p.value), round2(p.weight / wsum) });
    try ew.print(" = {d:.2} → {s}{s}; matrix ({s}, {s}) → {s}; score = 0.6 HK + 0.4 × 20 B = {d:.2}", .{ round2(b), @tagName(perilaku), if (rated_one) " (a value rated 1)" else "", @tagName(hasil), @tagName(perilaku), @tagName(pred), score });
    if (ikm) |i| try ew.print("; IKM {d} × 25 = {d:.2}{s}", .{ i, round2(i * 25.0), if (poor_service) " < 76.61 (grade C/D) → pelayanan_prima training" else "" });
    try w.writeAll(",\"explanation\":");
    try json.stringify(ex.items, .{}, w);
    try w.writeAll("}");
}

fn run(alloc: std.mem.Allocator, out: *std.ArrayList(u8)) !void {
    const input = try std.io.getStdIn().readToEndAlloc(alloc, 64 << 20);
    const req = json.parseFromSliceLeaky(Value, alloc, input, .{}) catch |e|
        return refuse("invalid request: {s}", .{@errorName(e)});
    if ((num(get(req, "abi")) orelse 0) != 1) return refuse("unsupported abi: this plugin speaks ABI 1", .{});
    const hook = get(req, "hook") orelse Value{ .null = {} };
    if (hook != .string or !std.mem.eql(u8, hook.string, "appraise")) return refuse("request is not for the appraise hook", .{});
    const cases = get(req, "cases") orelse Value{ .null = {} };
    if (cases != .array) return refuse("invalid request: cases must be an array", .{});

    const w = out.writer();
    try w.writeAll("{\"results\":[");
    for (cases.array.items, 0..) |c, i| {
        if (i > 0) try w.writeAll(",");
        appraiseCase(alloc, c, w) catch |e| {
            if (e != error.Refused) return e;
            const nip = get(get(c, "employee"), "nip");
            const nip_s = if (nip != null and nip.? == .string) nip.?.string else "?";
            var inner: [512]u8 = undefined;
            @memcpy(inner[0..refusal.len], refusal);
            return refuse("cases[{d}] (nip {s}): {s}", .{ i, nip_s, inner[0..refusal.len] });
        };
    }
    try w.writeAll("]}");
}

/// The hook: ABI 1 reactor export, type () -> ().
export fn appraise() void {
    var arena = std.heap.ArenaAllocator.init(std.heap.wasm_allocator);
    const alloc = arena.allocator();
    var out = std.ArrayList(u8).init(alloc);
    const stdout = std.io.getStdOut();
    run(alloc, &out) catch |e| {
        out.clearRetainingCapacity();
        const msg = if (e == error.Refused) refusal else @errorName(e);
        const w = out.writer();
        w.writeAll("{\"error\":{\"message\":") catch return;
        json.stringify(msg, .{}, w) catch return;
        w.writeAll("}}") catch return;
        std.io.getStdErr().writer().print("refused: {s}\n", .{msg}) catch {};
    };
    stdout.writeAll(out.items) catch {};
}
