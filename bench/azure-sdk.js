// bench/azure-sdk.js: the peer of bench/b-azure.sh, Microsoft's client
// library @azure/storage-blob with its defaults: a folder's files go up
// one after another with uploadFile, and come down with downloadToFile,
// each using the library's own default parallelism for its blocks.
//   node azure-sdk.js up CONTAINER DIR PREFIX | down CONTAINER PREFIX DIR
// The credential: AZURE_STORAGE_CONNECTION_STRING.
"use strict";
const fs = require("fs");
const path = require("path");
const { BlobServiceClient } = require("@azure/storage-blob");

function walk(dir, rel, out) {
	for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name < b.name ? -1 : 1)) {
		const r = rel ? rel + "/" + e.name : e.name;
		if (e.isDirectory()) walk(path.join(dir, e.name), r, out);
		else if (e.isFile()) out.push(r);
	}
	return out;
}

async function main() {
	const [op, container, a, b] = process.argv.slice(2);
	const svc = BlobServiceClient.fromConnectionString(process.env.AZURE_STORAGE_CONNECTION_STRING);
	const c = svc.getContainerClient(container);
	if (op === "up") {
		await c.createIfNotExists();
		for (const r of walk(a, "", []))
			await c.getBlockBlobClient(b + "/" + r).uploadFile(path.join(a, r));
	} else if (op === "down") {
		for await (const blob of c.listBlobsFlat({ prefix: a + "/" })) {
			const file = path.join(b, blob.name.slice(a.length + 1));
			fs.mkdirSync(path.dirname(file), { recursive: true });
			await c.getBlobClient(blob.name).downloadToFile(file);
		}
	} else {
		throw new Error("usage: azure-sdk.js up CONTAINER DIR PREFIX | down CONTAINER PREFIX DIR");
	}
}
main().catch((e) => { console.error("azure-sdk.js: " + e.message); process.exit(1); });
