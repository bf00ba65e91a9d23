// A stock node `smpp` (npm) ESME against numbind's SMS centre, as a new user would drive it.
//
// Usage: node node_smpp_esme.js SMPP_HOST SMPP_PORT SYSTEM_ID PASSWORD SHORT_CODE PHONE
//
// Binds as a transceiver (node smpp announces interface_version 0x50), submits a Chinese text as two UDH parts
// asking for receipts, and checks one submit_sm_resp ID and one delivery receipt per part, query_sm per part, and
// a refused submit that answers with its status and no body. Exits 1 with a message on the first miss; prints
// one JSON line with what it saw.
'use strict';
const smpp = require('smpp');

const [host, port, systemId, password, shortCode, phone] = process.argv.slice(2);
const DEADLINE_MS = 30000;

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}
setTimeout(() => fail('timed out'), DEADLINE_MS).unref();

const session = smpp.connect({ url: `smpp://${host}:${port}`, auto_enquire_link_period: 0 });
session.on('error', (error) => fail(`session error: ${error}`));

const partIds = [];
const receipts = new Map();
const queried = new Map();
const expectedParts = 2;

session.on('deliver_sm', (pdu) => {
  session.send(pdu.response());
  if ((pdu.esm_class & 0x04) === 0) return;
  receipts.set(String(pdu.receipted_message_id).replace(/\0+$/, ''), pdu.message_state);
  finishWhenDone();
});

function submitParts() {
  const halves = ['您的机顶盒已绑定本号码，', '回复 UNBIND 可解除。'];
  halves.forEach((message, index) => {
    session.submit_sm({
      source_addr: shortCode,
      destination_addr: phone,
      esm_class: 0x40,
      data_coding: 8,
      registered_delivery: 1,
      short_message: { udh: Buffer.from([0x05, 0x00, 0x03, 0x2b, halves.length, index + 1]), message },
    }, (pdu) => {
      if (pdu.command_status !== 0) fail(`part ${index + 1} refused with ${pdu.command_status}`);
      partIds.push(pdu.message_id);
      finishWhenDone();
    });
  });
}

let finishing = false;
function finishWhenDone() {
  if (finishing || partIds.length < expectedParts || receipts.size < expectedParts) return;
  finishing = true;
  if (new Set(partIds).size !== expectedParts) fail(`part IDs not distinct: ${partIds}`);
  for (const id of partIds) {
    if (receipts.get(id) !== 2) fail(`no DELIVERED receipt for part ${id}: ${[...receipts]}`);
  }
  let answered = 0;
  for (const id of partIds) {
    session.query_sm({ message_id: id, source_addr: shortCode }, (pdu) => {
      queried.set(id, pdu.message_state);
      answered += 1;
      if (answered === partIds.length) refusedSubmit();
    });
  }
}

function refusedSubmit() {
  session.submit_sm({ source_addr: shortCode, destination_addr: '95588', short_message: 'hi' }, (pdu) => {
    if (pdu.command_status !== 0x0b) fail(`a submit to a non-mobile number answered ${pdu.command_status}`);
    for (const [id, state] of queried) if (state !== 2) fail(`query_sm of ${id} answered state ${state}`);
    console.log(JSON.stringify({ parts: partIds.length, receipts: receipts.size, refused_status: pdu.command_status }));
    session.close();
    process.exit(0);
  });
}

session.bind_transceiver({ system_id: systemId, password }, (pdu) => {
  if (pdu.command_status !== 0) fail(`bind refused with ${pdu.command_status}`);
  submitParts();
});
