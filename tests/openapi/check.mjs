#!/usr/bin/env node
/*
 * check.mjs: holds openapi.yaml to account, offline (after `npm ci` here).
 *
 *   node check.mjs doc                 the document is valid OpenAPI 3.1
 *   node check.mjs bodies FILE         request bodies validate against it
 *   node check.mjs routes FILE         it lists exactly the server's routes
 *   node check.mjs selftest            the checks above can fail
 *
 * Options (any command): --doc FILE (default: ../../openapi.yaml from here).
 * FILE "-" reads standard input. Exit status 0 when everything passed, 1
 * when something failed, 2 on bad usage or unreadable input.
 *
 * doc: the document is checked against the OpenAPI 3.1 schema
 * (@seriousme/openapi-schema-validator, which also resolves every $ref),
 * then every schema in it is compiled by Ajv as JSON Schema 2020-12 in
 * strict mode (unknown keywords, bad patterns, unresolvable references are
 * errors), and operationIds must be unique.
 *
 * bodies FILE: JSON Lines, one request per line:
 *     {"method": "POST", "path": "/api/v3/...", "body": {...}, "where": "label"}
 *   "method" defaults to POST; "where" (optional) names the request in the
 *   report; a query string in "path" is ignored; blank lines and lines
 *   starting with "#" are skipped. The path is looked up as the server does:
 *   exactly, else with one trailing slash added or removed. Each body is
 *   validated against that operation's application/json request schema;
 *   a line whose path or method the document does not have fails too.
 *   Output: one "FAIL line N (where): ..." block per failing line, then
 *   "openapi bodies: N valid, N invalid".
 *
 * routes FILE: one route per line, "METHOD PATH" (e.g. "PUT
 *   /api/v3/update/proc/process_instance", "GET /healthz"); blank lines and
 *   "#" comments are skipped. Both sides are compared after removing one
 *   trailing slash from each path (the server treats "/x" and "/x/" alike;
 *   the document lists ESB paths with the slash). Output: every route
 *   missing on either side, then "openapi routes: N in both, N only in the
 *   server, N only in the document".
 *
 * The custom schema keyword x-max-bytes (see the document's introduction)
 * is checked too: the UTF-8 length of a string after trimming space, tab,
 * CR and LF.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { parse as parseYaml } from "yaml";

const addFormats = addFormatsModule.default ?? addFormatsModule;
const HERE = dirname(fileURLToPath(import.meta.url));
const DOC_ID = "https://procsvc.invalid/openapi.yaml";
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const MAX_ERRORS_SHOWN = 5;
const MAX_MESSAGE = 240;

class UsageError extends Error {}

function readInput(file) {
	try {
		return readFileSync(file === "-" ? 0 : file, "utf8");
	} catch (err) {
		throw new UsageError(`cannot read ${file}: ${err.message}`);
	}
}

function loadDoc(file) {
	const text = readInput(file);
	try {
		/* The document shares repeated blocks through YAML anchors; lift
		 * the parser's alias cap, which guards against untrusted input. */
		return parseYaml(text, { maxAliasCount: -1 });
	} catch (err) {
		throw new UsageError(`${file} is not YAML: ${err.message}`);
	}
}

function trimBlanks(s) {
	return s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
}

function newAjv() {
	const ajv = new Ajv2020({
		strict: true,
		/* OpenAPI schemas say "properties" without "type" where a $ref
		 * supplies it; that is fine JSON Schema, only Ajv's style check. */
		strictTypes: false,
		allowUnionTypes: true,
		allErrors: true,
	});
	addFormats(ajv);
	ajv.addKeyword({
		keyword: "x-max-bytes",
		type: "string",
		schemaType: "number",
		errors: true,
		validate: function maxBytes(limit, data) {
			const n = Buffer.byteLength(trimBlanks(data), "utf8");
			if (n <= limit)
				return true;
			maxBytes.errors = [{
				keyword: "x-max-bytes",
				message: `is ${n} bytes long after trimming; the limit is ${limit}`,
				params: { limit },
			}];
			return false;
		},
	});
	return ajv;
}

/* "#/a/b~1c" -> the value at that pointer in doc, or undefined. */
function atPointer(doc, ref) {
	if (!ref.startsWith("#/"))
		return undefined;
	let v = doc;
	for (const raw of ref.slice(2).split("/")) {
		const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
		if (v === null || typeof v !== "object" || !(key in v))
			return undefined;
		v = v[key];
	}
	return v;
}

function pointerEscape(s) {
	return s.replace(/~/g, "~0").replace(/\//g, "~1");
}

/* An OpenAPI object that may be a Reference Object: [object, its pointer]. */
function deref(doc, obj, pointer) {
	for (let hops = 0; obj && typeof obj.$ref === "string" && hops < 16; hops++) {
		pointer = obj.$ref;
		obj = atPointer(doc, pointer);
	}
	return [obj, pointer];
}

function docOperations(doc) {
	const ops = [];
	for (const [path, item] of Object.entries(doc.paths ?? {}))
		for (const m of METHODS)
			if (item[m])
				ops.push({ path, method: m.toUpperCase(), op: item[m] });
	return ops;
}

function stripSlash(p) {
	return p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
}

function short(s) {
	return s.length > MAX_MESSAGE ? s.slice(0, MAX_MESSAGE) + "..." : s;
}

function formatAjvErrors(errors) {
	const lines = (errors ?? []).slice(0, MAX_ERRORS_SHOWN).map((e) =>
		short(`  ${e.instancePath || "(body)"} ${e.message}` +
		    (e.keyword === "additionalProperties" ? `: ${e.params.additionalProperty}` : "")));
	if ((errors ?? []).length > MAX_ERRORS_SHOWN)
		lines.push(`  ... and ${errors.length - MAX_ERRORS_SHOWN} more`);
	return lines.join("\n");
}

/* ---- doc -------------------------------------------------------------- */

/* Every Schema Object of the document with its JSON pointer. */
function documentSchemas(doc) {
	const found = [];
	const media = (content, base) => {
		for (const [type, m] of Object.entries(content ?? {}))
			if (m.schema !== undefined)
				found.push(`${base}/content/${pointerEscape(type)}/schema`);
	};
	const c = doc.components ?? {};
	for (const name of Object.keys(c.schemas ?? {}))
		found.push(`#/components/schemas/${pointerEscape(name)}`);
	for (const [name, rb] of Object.entries(c.requestBodies ?? {}))
		media(rb.content, `#/components/requestBodies/${pointerEscape(name)}`);
	for (const [name, r] of Object.entries(c.responses ?? {}))
		media(r.content, `#/components/responses/${pointerEscape(name)}`);
	for (const kind of ["parameters", "headers"])
		for (const [name, p] of Object.entries(c[kind] ?? {}))
			if (p.schema !== undefined)
				found.push(`#/components/${kind}/${pointerEscape(name)}/schema`);
	for (const { path, method, op } of docOperations(doc)) {
		const base = `#/paths/${pointerEscape(path)}/${method.toLowerCase()}`;
		if (op.requestBody && !op.requestBody.$ref)
			media(op.requestBody.content, `${base}/requestBody`);
		for (const [status, r] of Object.entries(op.responses ?? {}))
			if (!r.$ref)
				media(r.content, `${base}/responses/${status}`);
	}
	return found;
}

function compiler(doc) {
	const ajv = newAjv();
	/* Registered whole so that "#/components/..." references resolve.
	 * Ajv compiles the root too: its OpenAPI fields are declared as
	 * keywords without meaning, and the schemas inside are compiled only
	 * where they are referenced. */
	ajv.addVocabulary(Object.keys(doc).filter((k) => !k.startsWith("$")));
	ajv.addSchema(doc, DOC_ID, undefined, false);
	return (pointer) => ajv.compile({ $ref: DOC_ID + pointer });
}

async function checkDoc(doc) {
	const problems = [];
	const validator = new Validator();
	const res = await validator.validate(doc);
	if (doc.openapi === undefined || !String(doc.openapi).startsWith("3.1."))
		problems.push(`openapi is ${JSON.stringify(doc.openapi)}, want 3.1.x`);
	if (!res.valid)
		problems.push("not valid OpenAPI 3.1:\n" +
		    (typeof res.errors === "string" ? res.errors :
		    JSON.stringify(res.errors, null, 1)));
	const compile = compiler(doc);
	let n = 0;
	for (const pointer of documentSchemas(doc)) {
		try {
			compile(pointer);
			n++;
		} catch (err) {
			problems.push(`schema ${pointer}: ${err.message}`);
		}
	}
	const seen = new Map();
	for (const { path, method, op } of docOperations(doc)) {
		const where = `${method} ${path}`;
		if (!op.operationId)
			problems.push(`${where}: no operationId`);
		else if (seen.has(op.operationId))
			problems.push(`${where}: operationId ${op.operationId} also used by ${seen.get(op.operationId)}`);
		else
			seen.set(op.operationId, where);
	}
	return { problems, schemas: n, operations: seen.size };
}

/* ---- bodies ----------------------------------------------------------- */

function findOperation(doc, method, path) {
	const paths = doc.paths ?? {};
	const bare = path.split("?")[0];
	const candidates = [bare, bare.endsWith("/") ? bare.slice(0, -1) : bare + "/"];
	for (const p of candidates)
		if (paths[p]) {
			const op = paths[p][method.toLowerCase()];
			return op ? { path: p, op } :
			    { error: `${method} is not an operation of ${p} (it has ${
				METHODS.filter((m) => paths[p][m]).map((m) => m.toUpperCase()).join(", ")})` };
		}
	return { error: `no path ${bare} in the document` };
}

function checkBodies(doc, text) {
	const compile = compiler(doc);
	const cache = new Map();
	const report = [];
	let valid = 0, invalid = 0;

	text.split("\n").forEach((raw, i) => {
		const line = raw.trim();
		if (line === "" || line.startsWith("#"))
			return;
		let req;
		const fail = (why) => {
			invalid++;
			const where = req && typeof req.where === "string" ? ` (${req.where})` : "";
			const what = req && typeof req.path === "string" ? ` ${req.method ?? "POST"} ${req.path}` : "";
			report.push(`FAIL line ${i + 1}${where}:${what}\n${why}`);
		};
		try {
			req = JSON.parse(line);
		} catch (err) {
			return fail(`  not JSON: ${err.message}`);
		}
		if (req === null || typeof req !== "object" || typeof req.path !== "string" ||
		    !("body" in req) || (req.method !== undefined && typeof req.method !== "string"))
			return fail('  want {"method": "POST", "path": "/...", "body": ...}');
		const method = (req.method ?? "POST").toUpperCase();
		const found = findOperation(doc, method, req.path);
		if (found.error)
			return fail(`  ${found.error}`);
		const base = `#/paths/${pointerEscape(found.path)}/${method.toLowerCase()}/requestBody`;
		const [rb, rbPointer] = deref(doc, found.op.requestBody, base);
		if (!rb || !rb.content || !rb.content["application/json"])
			return fail("  the operation takes no application/json body");
		const pointer = `${rbPointer}/content/application~1json/schema`;
		if (!cache.has(pointer))
			cache.set(pointer, compile(pointer));
		const validate = cache.get(pointer);
		if (validate(req.body))
			valid++;
		else
			fail(formatAjvErrors(validate.errors));
	});
	return { report, valid, invalid };
}

/* ---- routes ----------------------------------------------------------- */

function checkRoutes(doc, text) {
	const server = new Set(), problems = [];
	text.split("\n").forEach((raw, i) => {
		const line = raw.replace(/#.*/, "").trim();
		if (line === "")
			return;
		const m = line.match(/^([A-Za-z]+)\s+(\/\S*)$/);
		if (!m) {
			problems.push(`line ${i + 1}: want "METHOD /path", got ${JSON.stringify(raw)}`);
			return;
		}
		const key = `${m[1].toUpperCase()} ${stripSlash(m[2])}`;
		if (server.has(key))
			problems.push(`line ${i + 1}: ${key} listed twice`);
		server.add(key);
	});
	const documented = new Set();
	for (const { path, method } of docOperations(doc)) {
		const key = `${method} ${stripSlash(path)}`;
		if (documented.has(key))
			problems.push(`document: ${key} listed twice (with and without a trailing slash)`);
		documented.add(key);
	}
	const onlyServer = [...server].filter((k) => !documented.has(k)).sort();
	const onlyDoc = [...documented].filter((k) => !server.has(k)).sort();
	for (const k of onlyServer)
		problems.push(`only in the server's routes: ${k}`);
	for (const k of onlyDoc)
		problems.push(`only in the document: ${k}`);
	const both = [...server].filter((k) => documented.has(k)).length;
	return { problems, both, onlyServer: onlyServer.length, onlyDoc: onlyDoc.length };
}

/* ---- selftest --------------------------------------------------------- */

/* Requests the document must refuse, one per rule that a schema states,
 * and their valid twins: a check that passes everything would fail here. */
function selftest(doc) {
	const csi = "/api/v3/create/proc/service_instance";
	const cpi = "/api/c/compapi/v2/cc/create_process_instance";
	const proc = (info) => ({ bk_biz_id: 1, service_instance_id: 1, processes: [{ process_info: info }] });
	const good = [
		["POST", csi, { bk_biz_id: 1, bk_module_id: 60, instances: [{ bk_host_id: 2, processes: [
			{ process_template_id: 0, process_info: { bk_process_name: "p", bk_func_name: "f",
				bind_info: [{ ip: "fd00::3", port: "80,8000-8010", protocol: "1", enable: true }] } }] }] }],
		["POST", csi, { bk_biz_id: 1, bk_module_id: 61, instances: [{ bk_host_id: 2, processes: [
			{ process_template_id: 2, process_info: { bk_process_name: 5, proc_num: "locked, so ignored" } }] }] }],
		["POST", cpi, proc({ bk_process_name: "  p  ", bk_func_name: "f", priority: -100, unknown_key: [1] })],
		["POST", cpi + "/", proc({ bk_process_name: "é".repeat(128), bk_func_name: "f" })],
		["PUT", "/api/v3/update/proc/process_instance/", { bk_biz_id: 1, processes: [{ bk_process_id: 3, description: null }] }],
		/* A template-made process: locked values are ignored whatever they are. */
		["PUT", "/api/v3/update/proc/process_instance", { bk_biz_id: 1, processes: [{ bk_process_id: 1,
			bk_func_name: "", start_cmd: 5, timeout: 99999, bind_info: [{ template_row_id: 2, port: "not a port" }] }] }],
		["DELETE", "/api/v3/deletemany/proc/service_instance", { bk_biz_id: 1, service_instance_ids: [1, 1] }],
		["POST", "/api/v3/findmany/proc/service_instance", { bk_biz_id: 1, page: { sort: "-create_time,name", limit: 500 } }],
		["POST", "/api/v3/createmany/proc/proc_template", {}],
		["POST", "/api/v3/procsvc/upsert_hosts", { hosts: [{ bk_host_id: 1, bk_host_innerip: " 10.0.0.1,10.0.0.2 ", bk_host_outerip_v6: "::1" }] }],
	];
	const bad = [
		["POST", csi, { bk_biz_id: 1, bk_module_id: "60", instances: [{ bk_host_id: 2 }] }, "bk_module_id a string"],
		["POST", csi, { bk_biz_id: 1, bk_module_id: 60, instances: [] }, "instances empty"],
		["POST", csi, { bk_biz_id: 1, bk_module_id: 60, instances: Array(101).fill({ bk_host_id: 1 }) }, "101 instances"],
		["POST", cpi, proc({ bk_process_name: " ", bk_func_name: "f" }), "blank name"],
		["POST", cpi, proc({ bk_process_name: "é".repeat(129), bk_func_name: "f" }), "name of 258 bytes"],
		["POST", cpi, proc({ bk_process_name: "p", bk_func_name: "f", proc_num: 0 }), "proc_num 0"],
		["POST", cpi, proc({ bk_process_name: "p", bk_func_name: "f", timeout: "30" }), "timeout a string"],
		["POST", cpi, proc({ bk_process_name: "p", bk_func_name: "f", bind_info: [{ port: "080" }] }), "port 080"],
		["POST", cpi, proc({ bk_process_name: "p", bk_func_name: "f", bind_info: [{ ip: "1.2.3.256" }] }), "ip 1.2.3.256"],
		["POST", cpi, proc({ bk_process_name: "p", bk_func_name: "f", bind_info: [{ protocol: "tcp" }] }), "protocol tcp"],
		["POST", cpi, proc({ bk_process_name: "p", bk_func_name: "f", bind_info: [{ colour: "red" }] }), "unknown bind key"],
		["POST", cpi, proc({ bk_process_name: "p", bk_func_name: "f", bind_info: Array(1001).fill({}) }), "1001 bind rows"],
		["DELETE", "/api/v3/deletemany/proc/service_instance", { bk_biz_id: 1, service_instance_ids: Array(501).fill(1) }, "501 ids"],
		["POST", "/api/v3/findmany/proc/service_instance", { bk_biz_id: 1, page: { limit: 501 } }, "limit 501"],
		["POST", "/api/v3/findmany/proc/service_instance", { bk_biz_id: 1, page: { sort: "name,-name" } }, "sort key twice"],
		["POST", "/api/v3/findmany/proc/service_instance/details", { bk_biz_id: 1, bk_host_ids: [1], bk_host_list: [2] }, "both host lists"],
		["POST", "/api/v3/createmany/proc/proc_template", { processes: [{ spec: { bk_process_name: { value: "p" }, bk_func_name: { value: "f" } } }] }, "template without ids"],
		["POST", "/api/v3/procsvc/set_module_hosts", { bk_module_id: 1, bk_host_ids: [1, 1] }, "duplicate host ids"],
		["POST", "/api/v3/procsvc/upsert_hosts", { hosts: [{ bk_host_id: 1, bk_host_innerip: "10.0.0.1," }] }, "trailing comma in an IP list"],
		["PUT", "/api/c/compapi/v2/cc/update_process_instance/", { bk_biz_id: 1, processes: [{ bk_process_id: 3 }] }, "PUT on an ESB path"],
		["PUT", "/api/v3/update/proc/process_instance", { bk_biz_id: 1, processes: [{ description: "d" }] }, "update item without bk_process_id"],
		["PUT", "/api/v3/update/proc/process_instance", { bk_biz_id: 1, processes: [{ bk_process_id: 1, bind_info: "x" }] }, "update: bind_info not an array"],
		["PUT", "/api/v3/update/proc/process_instance", { bk_biz_id: 1, processes: [{ bk_process_id: 1, bind_info: [{ row_id: 1, colour: 1 }] }] }, "update: unknown bind key"],
		["PUT", "/api/v3/update/proc/process_instance", { bk_biz_id: 1, processes: [{ bk_process_id: 1, bind_info: [{ row_id: "1" }] }] }, "update: row_id a string"],
		["PUT", "/api/v3/update/proc/process_instance", { bk_biz_id: 1, processes: [{ bk_process_id: 1, bind_info: Array(1001).fill({}) }] }, "update: 1001 bind rows"],
		["POST", "/api/v3/no/such/api", {}, "unknown path"],
	];
	const lines = (list) => list.map(([method, path, body]) => JSON.stringify({ method, path, body })).join("\n");
	const problems = [];
	const g = checkBodies(doc, lines(good));
	if (g.invalid > 0)
		problems.push(`valid requests refused:\n${g.report.join("\n")}`);
	bad.forEach((b, i) => {
		const r = checkBodies(doc, lines([b]));
		if (r.invalid !== 1)
			problems.push(`invalid request #${i + 1} (${b[3]}) accepted`);
	});
	const routes = docOperations(doc).map(({ method, path }) => `${method} ${path}`);
	if (checkRoutes(doc, routes.join("\n")).problems.length > 0)
		problems.push("the document's own route list does not match itself");
	if (checkRoutes(doc, routes.slice(1).concat("GET /nowhere").join("\n")).problems.length !== 2)
		problems.push("a missing and an extra route were not both reported");
	return { problems, cases: good.length + bad.length + 2 };
}

/* ---- main ------------------------------------------------------------- */

async function main(argv) {
	const args = [];
	let docFile = resolve(HERE, "../../openapi.yaml");
	for (let i = 0; i < argv.length; i++) {
		if (argv[i] === "--doc") {
			if (i + 1 >= argv.length)
				throw new UsageError("--doc needs a file");
			docFile = argv[++i];
		} else {
			args.push(argv[i]);
		}
	}
	const [cmd, file] = args;
	const needsFile = cmd === "bodies" || cmd === "routes";
	if (!["doc", "bodies", "routes", "selftest"].includes(cmd) || (needsFile && !file) ||
	    args.length !== (needsFile ? 2 : 1))
		throw new UsageError("usage: check.mjs doc | bodies FILE | routes FILE | selftest [--doc FILE]");
	const doc = loadDoc(docFile);

	if (cmd === "doc") {
		const r = await checkDoc(doc);
		for (const p of r.problems)
			console.log(`FAIL ${p}`);
		console.log(`openapi doc: ${r.operations} operations, ${r.schemas} schemas compiled, ` +
		    `${r.problems.length} problems`);
		return r.problems.length === 0;
	}
	if (cmd === "bodies") {
		const r = checkBodies(doc, readInput(file));
		for (const line of r.report)
			console.log(line);
		console.log(`openapi bodies: ${r.valid} valid, ${r.invalid} invalid`);
		return r.invalid === 0;
	}
	if (cmd === "routes") {
		const r = checkRoutes(doc, readInput(file));
		for (const p of r.problems)
			console.log(`FAIL ${p}`);
		console.log(`openapi routes: ${r.both} in both, ${r.onlyServer} only in the server, ` +
		    `${r.onlyDoc} only in the document`);
		return r.problems.length === 0;
	}
	const r = selftest(doc);
	for (const p of r.problems)
		console.log(`FAIL ${p}`);
	console.log(`openapi selftest: ${r.cases} cases, ${r.problems.length} problems`);
	return r.problems.length === 0;
}

main(process.argv.slice(2)).then((ok) => process.exit(ok ? 0 : 1), (err) => {
	console.error(`check.mjs: ${err instanceof UsageError ? err.message : err.stack}`);
	process.exit(2);
});
