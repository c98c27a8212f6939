/*
 * A generic ABI 1 host for a JavaScript plugin: QuickJS-ng compiled to wasm32-wasi, with the
 * plugin's script embedded (what Javy does, by hand, with tools from the package registries).
 *
 * For each exported hook H (a () -> () function, here `appraise`):
 *   1. evaluate the embedded script, which must define a global function H(request);
 *   2. parse the whole of stdin as JSON (JS_ParseJSON, the engine's JSON.parse);
 *   3. call H(request) and write JSON.stringify(result) to stdout;
 *   4. a thrown exception becomes the refusal {"error": {"message": String(e.message)}}, with the
 *      stack on stderr; console.log / console.error write to stderr (stdout is the response).
 * Nothing is freed: every call runs in a fresh instance that is thrown away after.
 *
 * The script arrives as plugin_js.h (made by build.sh): `static const char plugin_js[]`, and
 * PLUGIN_JS_NAME, the file name shown in stack traces. Define HOOK_ROTATE as well to export a
 * `rotate` hook for a script that defines rotate(request).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quickjs.h"
#include "plugin_js.h"

static void write_all(FILE *f, const char *s, size_t n) {
    fwrite(s, 1, n, f);
    fflush(f);
}

/* Writes {"error":{"message":…}} with `message` JSON-escaped by the engine itself. */
static void refuse(JSContext *ctx, const char *message) {
    fprintf(stderr, "refused: %s\n", message);
    JSValue doc = JS_NewObject(ctx), err = JS_NewObject(ctx);
    JS_SetPropertyStr(ctx, err, "message", JS_NewString(ctx, message));
    JS_SetPropertyStr(ctx, doc, "error", err);
    JSValue text = JS_JSONStringify(ctx, doc, JS_UNDEFINED, JS_UNDEFINED);
    size_t len;
    const char *s = JS_ToCStringLen(ctx, &len, text);
    if (s) write_all(stdout, s, len);
}

/* Refuses with the pending exception's message; its stack goes to the log. */
static void refuse_exception(JSContext *ctx, const char *context) {
    JSValue e = JS_GetException(ctx);
    JSValue msg = JS_IsError(e) ? JS_GetPropertyStr(ctx, e, "message") : JS_DupValue(ctx, e);
    const char *m = JS_ToCString(ctx, msg);
    JSValue stack = JS_IsError(e) ? JS_GetPropertyStr(ctx, e, "stack") : JS_UNDEFINED;
    if (!JS_IsUndefined(stack)) {
        const char *st = JS_ToCString(ctx, stack);
        if (st) fprintf(stderr, "%s", st);
    }
    char buf[1024];
    snprintf(buf, sizeof buf, "%s%s", context, m ? m : "(exception without a message)");
    refuse(ctx, buf);
}

/* console.log / console.error: arguments joined by spaces, one line on stderr. */
static JSValue js_log(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    (void)this_val;
    for (int i = 0; i < argc; i++) {
        const char *s = JS_ToCString(ctx, argv[i]);
        fprintf(stderr, "%s%s", i ? " " : "", s ? s : "?");
    }
    fputc('\n', stderr);
    return JS_UNDEFINED;
}

static char *read_stdin(size_t *len) {
    size_t cap = 1 << 16, n;
    char *buf = malloc(cap + 1);
    *len = 0;
    while (buf && (n = fread(buf + *len, 1, cap - *len, stdin)) > 0) {
        *len += n;
        if (*len == cap) buf = realloc(buf, (cap *= 2) + 1);
    }
    if (buf) buf[*len] = 0; /* JS_ParseJSON wants a NUL after the text */
    return buf;
}

static void run_hook(const char *hook) {
    JSRuntime *rt = JS_NewRuntime();
    if (!rt) abort();
    /* The C stack is 1 MiB (build.sh); let QuickJS stop deep recursion well before it. */
    JS_SetMaxStackSize(rt, 768 * 1024);
    /* Reference counting frees almost everything at once; the cycle collector would only trace
     * the (large, live) request again and again. The instance is thrown away after the call. */
    JS_SetGCThreshold(rt, (size_t)-1);
    JSContext *ctx = JS_NewContext(rt);
    if (!ctx) abort();

    JSValue global = JS_GetGlobalObject(ctx);
    JSValue console = JS_NewObject(ctx);
    JS_SetPropertyStr(ctx, console, "log", JS_NewCFunction(ctx, js_log, "log", 1));
    JS_SetPropertyStr(ctx, console, "error", JS_NewCFunction(ctx, js_log, "error", 1));
    JS_SetPropertyStr(ctx, global, "console", console);

    JSValue r = JS_Eval(ctx, plugin_js, sizeof plugin_js - 1, PLUGIN_JS_NAME, JS_EVAL_TYPE_GLOBAL);
    if (JS_IsException(r)) { refuse_exception(ctx, "the plugin script failed to load: "); return; }
    JSValue fn = JS_GetPropertyStr(ctx, global, hook);
    if (!JS_IsFunction(ctx, fn)) {
        char buf[128];
        snprintf(buf, sizeof buf, "the plugin script defines no function %s(request)", hook);
        refuse(ctx, buf);
        return;
    }

    size_t len;
    char *input = read_stdin(&len);
    if (!input) abort();
    JSValue request = JS_ParseJSON(ctx, input, len, "<request>");
    if (JS_IsException(request)) { refuse_exception(ctx, "invalid request: "); return; }

    JSValue result = JS_Call(ctx, fn, JS_UNDEFINED, 1, &request);
    if (JS_IsException(result)) { refuse_exception(ctx, ""); return; }
    JSValue text = JS_JSONStringify(ctx, result, JS_UNDEFINED, JS_UNDEFINED);
    if (JS_IsException(text)) { refuse_exception(ctx, "the response cannot be serialised: "); return; }
    if (!JS_IsString(text)) { refuse(ctx, "the hook returned no JSON document"); return; }
    const char *out = JS_ToCStringLen(ctx, &len, text);
    if (!out) abort();
    write_all(stdout, out, len);
}

__attribute__((export_name("appraise"))) void appraise(void) { run_hook("appraise"); }

#ifdef HOOK_ROTATE
__attribute__((export_name("rotate"))) void rotate(void) { run_hook("rotate"); }
#endif
