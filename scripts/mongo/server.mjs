// A MongoDB wire-protocol server for the tests of the static build's
// libmongoc: TLS and a password login (SCRAM-SHA-256), in front of the
// database of CongoDB (from @push.rocks/smartmongo 2.2.0, installed by
// scripts/mongo-up.sh).
//
// CongoDB itself listens on plain TCP only, and its saslStart and
// saslContinue are stubs that answer "done" to any client, so it checks
// no password. This server keeps CongoDB's storage and command handlers
// and replaces what is around them:
//   - TLS: node's tls server (OpenSSL) with the given certificate and key;
//   - SCRAM-SHA-256 (RFC 5802, RFC 7677) for one user of the "admin"
//     database, whose password is hashed here as MongoDB does for that
//     mechanism (PBKDF2 with 15000 rounds);
//   - commands other than hello, buildInfo, ping, endSessions and the login
//     itself are refused with Unauthorized (13) until the connection has
//     logged in, as mongod does with access control on;
//   - hello answers saslSupportedMechs for that user.
// Not done: SCRAM-SHA-1, speculative authentication in hello (a client
// falls back to saslStart, as with servers before 4.4), channel binding.
//
//   node server.mjs CONGO_HOME PORTFILE    serve; env MONGO_CERT, MONGO_KEY,
//                                          MONGO_USER, MONGO_PASSWORD
//   node server.mjs --selftest             check the SCRAM steps against
//                                          the example of RFC 7677
// It listens on 127.0.0.1, on MONGO_PORT when set (a restart on the same
// address), else on a port the kernel picks, written to PORTFILE once it
// listens.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { pathToFileURL } from 'node:url';

const ROUNDS = 15000;
const OPEN = new Set(['hello', 'ismaster', 'isMaster', 'buildInfo', 'buildinfo',
    'ping', 'endSessions', 'saslStart', 'saslContinue']);

const H = (b) => crypto.createHash('sha256').update(b).digest();
const HMAC = (k, s) => crypto.createHmac('sha256', k).update(s).digest();

// what the server keeps of a password: never the password itself
export function credentials(password, salt, rounds) {
	const salted = crypto.pbkdf2Sync(password.normalize('NFKC'), salt, rounds, 32, 'sha256');
	return { salt, rounds, storedKey: H(HMAC(salted, 'Client Key')),
	    serverKey: HMAC(salted, 'Server Key') };
}

function attrs(s) {
	const m = new Map();
	for (const part of s.split(','))
		m.set(part.slice(0, 1), part.slice(2));
	return m;
}

// One login's SCRAM conversation. first(): the server-first message, or
// throws; final(): the server-final message when the proof is right, or
// throws. lookup(name) gives the credentials of a user, or undefined.
export class Scram {
	constructor(lookup, nonce = crypto.randomBytes(18).toString('base64')) {
		this.lookup = lookup;
		this.snonce = nonce;
	}

	first(msg) {
		const m = /^([ny]),(a=[^,]*)?,(.*)$/.exec(msg);
		if (!m || m[2])
			throw new Error('bad client-first message');
		this.gs2 = `${m[1]},,`;
		this.bare = m[3];
		const a = attrs(this.bare);
		const user = (a.get('n') || '').replace(/=2C/g, ',').replace(/=3D/g, '=');
		this.cred = this.lookup(user);
		if (!this.cred || !a.get('r'))
			throw new Error('unknown user');
		this.user = user;
		this.nonce = a.get('r') + this.snonce;
		this.serverFirst = `r=${this.nonce},s=${this.cred.salt.toString('base64')},` +
		    `i=${this.cred.rounds}`;
		return this.serverFirst;
	}

	final(msg) {
		const at = msg.lastIndexOf(',p=');
		if (!this.serverFirst || at < 0)
			throw new Error('bad client-final message');
		const a = attrs(msg);
		if (a.get('c') !== Buffer.from(this.gs2).toString('base64') ||
		    a.get('r') !== this.nonce)
			throw new Error('bad client-final message');
		const auth = `${this.bare},${this.serverFirst},${msg.slice(0, at)}`;
		const proof = Buffer.from(a.get('p'), 'base64');
		const sig = HMAC(this.cred.storedKey, auth);
		if (proof.length !== sig.length)
			throw new Error('wrong proof');
		const key = Buffer.from(proof.map((b, i) => b ^ sig[i]));
		if (!crypto.timingSafeEqual(H(key), this.cred.storedKey))
			throw new Error('wrong proof');
		return `v=${HMAC(this.cred.serverKey, auth).toString('base64')}`;
	}
}

function selftest() {
	// RFC 7677, section 3
	const cred = credentials('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), 4096);
	const s = new Scram((u) => (u === 'user' ? cred : undefined),
	    '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0');
	const want = [
	    'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
	    'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='];
	const got = [s.first('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'),
	    s.final('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,' +
	    'p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=')];
	let bad = '';
	try {
		const t = new Scram((u) => (u === 'user' ? cred : undefined),
		    '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0');
		t.first('n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
		t.final('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,' +
		    'p=eHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
		bad = 'a wrong proof was accepted';
	} catch (e) {
		if (e.message !== 'wrong proof')
			bad = e.message;
	}
	for (let i = 0; i < 2; i++)
		console.log(`${got[i] === want[i] ? 'ok' : 'not ok'} ${got[i]}`);
	console.log(bad ? `not ok ${bad}` : 'ok a wrong proof is refused');
	process.exit(got[0] === want[0] && got[1] === want[1] && !bad ? 0 : 1);
}

function fail(code, codeName, errmsg) {
	return { ok: 0, errmsg, code, codeName };
}

async function serve(home, portfile) {
	const dist = (f) => import(pathToFileURL(path.join(home, 'vendor/package/dist_ts/congodb', f)).href);
	const congo = await dist('index.js');
	const { CongoServer, WireProtocol, Binary } = congo;
	const { UpdateEngine } = await dist('engine/UpdateEngine.js');
	const { bson } = await dist('congodb.plugins.js');
	const env = (k) => {
		if (!process.env[k])
			throw new Error(`${k} is not set`);
		return process.env[k];
	};
	const user = env('MONGO_USER');
	// libmongoc wants the salt length of mongod: the hash's less 4 bytes
	const cred = credentials(env('MONGO_PASSWORD'), crypto.randomBytes(28), ROUNDS);
	const lookup = (u) => (u === user ? cred : undefined);
	const bytes = (b) => Buffer.from(b.buffer).subarray(0, b.position);

	// Upserts by key, as xt sends them: a filter of equalities on top-level
	// strings ({ws, run}), a whole record that replaces the document.
	// CongoDB looks for each update's document through the whole
	// collection, so N upserts cost N squared, where mongod looks the key
	// up in an index (xt makes one on run). Here: for a collection and its
	// key's fields, a map of key to _id, made on first use and dropped by
	// any other write; a collection where a key is not one document's goes
	// through CongoDB.
	const keyed = new Map();
	const READS = new Set([...OPEN, 'find', 'getMore', 'killCursors', 'count', 'listIndexes',
	    'createIndexes', 'listCollections', 'listDatabases', 'distinct']);
	const simple = (u) => u && u.q && typeof u.q === 'object' && Object.keys(u.q).length > 0 &&
	    Object.entries(u.q).every(([k, v]) => !k.startsWith('$') && !k.includes('.') &&
	    typeof v === 'string') && u.u && typeof u.u === 'object' && !Array.isArray(u.u) &&
	    !Object.keys(u.u).some((k) => k.startsWith('$')) && u.upsert === true && !u.multi;
	async function keyedUpdate(storage, db, cmd, seqs) {
		const coll = cmd.update;
		const ups = seqs && seqs.has('updates') ? seqs.get('updates') : cmd.updates;
		if (typeof coll !== 'string' || !Array.isArray(ups) || !ups.length || !ups.every(simple))
			return null;
		const fields = Object.keys(ups[0].q).sort();
		if (!ups.every((u) => Object.keys(u.q).sort().join('\0') === fields.join('\0')))
			return null;
		const mk = `${db}\0${coll}\0${fields.join('\0')}`;
		await storage.createCollection(db, coll);
		if (!keyed.has(mk)) {
			const m = new Map();
			for (const d of await storage.findAll(db, coll)) {
				if (!fields.every((f) => typeof d[f] === 'string'))
					continue;
				const k = JSON.stringify(fields.map((f) => d[f]));
				if (m.has(k)) {
					keyed.set(mk, null);
					return null;
				}
				m.set(k, d._id.toHexString());
			}
			keyed.set(mk, m);
		}
		const m = keyed.get(mk);
		if (!m)
			return null;
		let matched = 0, modified = 0;
		const upserted = [];
		for (let i = 0; i < ups.length; i++) {
			const k = JSON.stringify(fields.map((f) => ups[i].q[f]));
			const id = m.get(k);
			if (id) {
				const doc = await storage.findById(db, coll, new bson.ObjectId(id));
				const nd = UpdateEngine.applyUpdate(doc, ups[i].u);
				matched++;
				if (JSON.stringify(doc) !== JSON.stringify(nd)) {
					await storage.updateById(db, coll, doc._id, nd);
					modified++;
				}
			} else {
				const nd = UpdateEngine.applyUpdate({ _id: new bson.ObjectId(), ...ups[i].q },
				    ups[i].u);
				await storage.insertOne(db, coll, nd);
				m.set(k, nd._id.toHexString());
				upserted.push({ index: i, _id: nd._id });
			}
		}
		const r = { ok: 1, n: matched + upserted.length, nModified: modified };
		if (upserted.length)
			r.upserted = upserted;
		return r;
	}

	class Server extends CongoServer {
		// one command of a connection; st.login is set once it logged in
		async answer(st, c) {
			const name = c.commandName, cmd = c.command;
			if (name === 'saslStart') {
				if (cmd.mechanism !== 'SCRAM-SHA-256')
					return fail(334, 'MechanismUnavailable',
					    `mechanism ${cmd.mechanism} is not available`);
				st.scram = new Scram(lookup);
				try {
					if (c.database !== 'admin')
						throw new Error('unknown user');
					const out = st.scram.first(bytes(cmd.payload).toString());
					st.skipEmpty = !!(cmd.options && cmd.options.skipEmptyExchange);
					return { ok: 1, conversationId: 1, done: false,
					    payload: new Binary(Buffer.from(out)) };
				} catch (e) {
					st.scram = null;
					console.log(`login refused: ${e.message}`);
					return fail(18, 'AuthenticationFailed', 'Authentication failed.');
				}
			}
			if (name === 'saslContinue') {
				if (st.login && st.pendingDone) {	/* the empty last step */
					st.pendingDone = false;
					return { ok: 1, conversationId: 1, done: true,
					    payload: new Binary(Buffer.alloc(0)) };
				}
				const s = st.scram;
				st.scram = null;
				try {
					if (!s)
						throw new Error('no login in progress');
					const out = s.final(bytes(cmd.payload).toString());
					st.login = s.user;
					st.pendingDone = !st.skipEmpty;
					console.log(`login ok: ${s.user}`);
					return { ok: 1, conversationId: 1, done: !st.pendingDone,
					    payload: new Binary(Buffer.from(out)) };
				} catch (e) {
					console.log(`login refused: ${e.message}`);
					return fail(18, 'AuthenticationFailed', 'Authentication failed.');
				}
			}
			if (!st.login && !OPEN.has(name))
				return fail(13, 'Unauthorized', `command ${name} requires authentication`);
			if (name === 'update') {
				const k = await keyedUpdate(this.storage, c.database, cmd, c.documentSequences);
				if (k)
					return k;
			}
			if (!READS.has(name))
				keyed.clear();
			const r = await this.commandRouter.route(c);
			if (name === 'hello' || name === 'ismaster' || name === 'isMaster') {
				delete r.saslSupportedMechs;
				if (cmd.saslSupportedMechs === `admin.${user}`)
					r.saslSupportedMechs = ['SCRAM-SHA-256'];
			}
			return r;
		}

		// CongoDB's loop over the messages of a connection, through answer()
		async processMessages(st) {
			while (st.buffer.length >= 16) {
				let m;
				try {
					m = WireProtocol.parseMessage(st.buffer);
				} catch (e) {
					st.socket.destroy();
					return;
				}
				if (!m)
					return;
				st.buffer = st.buffer.subarray(m.bytesConsumed);
				const c = m.command;
				const r = await this.answer(st, c);
				const out = c.opCode === 2004 ?
				    WireProtocol.encodeOpReplyResponse(c.requestID, [r]) :
				    WireProtocol.encodeOpMsgResponse(c.requestID, r);
				if (!st.socket.destroyed)
					st.socket.write(out);
			}
		}

		async start() {
			await this.storage.initialize();
			this.server = tls.createServer({
				cert: fs.readFileSync(env('MONGO_CERT')),
				key: fs.readFileSync(env('MONGO_KEY')),
			}, (sock) => this.handleConnection(sock));
			this.server.on('tlsClientError', (e) =>
			    console.log(`tls refused: ${e.code || e.message.trim()}`));
			await new Promise((ok, no) => {
				this.server.once('error', no);
				this.server.listen(Number(process.env.MONGO_PORT || 0), '127.0.0.1', ok);
			});
			this.isRunning = true;
			return this.server.address().port;
		}
	}

	const srv = new Server({ storage: 'memory' });
	const port = await srv.start();
	fs.writeFileSync(`${portfile}.new`, `${port}\n`);
	fs.renameSync(`${portfile}.new`, portfile);
	console.log(`listening on 127.0.0.1:${port} (TLS, SCRAM-SHA-256, user ${user})`);
	const stop = async () => {
		try {
			await srv.stop();
		} finally {
			process.exit(0);
		}
	};
	process.on('SIGTERM', stop);
	process.on('SIGINT', stop);
}

if (process.argv[2] === '--selftest')
	selftest();
else if (process.argv.length === 4)
	await serve(process.argv[2], process.argv[3]);
else {
	console.error('usage: node server.mjs CONGO_HOME PORTFILE | --selftest');
	process.exit(2);
}
