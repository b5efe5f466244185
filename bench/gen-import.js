// A Yealink folder of N phones as admins keep them: one common file per model and a <mac>.cfg
// per phone that repeats the site-wide values, with planted variations the import must find:
// one phone on another SIP server, a group of 30 with another dial plan, and one model (T54W)
// with its own firmware. Used by test/import-hoisting.test.ts and the bench's IM scenario.

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const PLANTED = {
  server: 'sip.example.com',
  otherServer: 'sip-backup.example.net',
  dialPlan: '[2-9]xxxxxxxxx',
  otherDialPlan: '9[2-9]xxxxxxxxx',
  firmware: 'http://fw.example.com/T46S(T48S,T42S,T41S)-66.86.0.15.rom',
  t54wFirmware: 'http://fw.example.com/T54W-96.86.0.45.rom',
  groupSize: 30,
};

const MODELS = [
  { name: 'T46S', cfg: '000000000066', share: 0.6 },
  { name: 'T48S', cfg: '000000000065', share: 0.25 },
  { name: 'T54W', cfg: '000000000096', share: 0.15 },
];

/**
 * Writes `<dir>/phones/` (the folder to import) and `<dir>/models.csv`; returns what was planted.
 * Deterministic: the same `devices` gives the same files.
 */
export function writeImportFolder(dir, devices = 1000) {
  const phones = path.join(dir, 'phones');
  mkdirSync(phones, { recursive: true });
  for (const m of MODELS) {
    writeFileSync(
      path.join(phones, `y${m.cfg}.cfg`),
      `#!version:1.0.0.1\n## ${m.name} common settings\n# Screen saver after 10 minutes\nscreensaver.wait_time = 600\nfeatures.${m.name.toLowerCase()}.tuned = 1\n`,
    );
  }
  const csv = ['mac,model'];
  const macs = [];
  let n = 0;
  for (const m of MODELS) {
    const count = m === MODELS[MODELS.length - 1] ? devices - n : Math.round(devices * m.share);
    for (let i = 0; i < count; i++, n++) macs.push({ mac: `001565${(0x100000 + n).toString(16).slice(1).padStart(6, '0')}`, model: m.name });
  }
  // Planted: the 7th phone on another server; 30 phones spread over the models with another dial plan.
  const otherServer = macs[6 % macs.length].mac;
  // 30 phones (a third of a small folder), never the one on the other server.
  const groupSize = Math.min(PLANTED.groupSize, Math.floor((macs.length - 1) / 3));
  const groupMacs = new Set();
  for (let i = 0; groupMacs.size < groupSize && i < macs.length * 4; i++) {
    const m = macs[(11 + i * 31) % macs.length].mac;
    if (m !== otherServer) groupMacs.add(m);
  }
  for (let i = 0; groupMacs.size < groupSize; i++) if (macs[i].mac !== otherServer) groupMacs.add(macs[i].mac);
  macs.forEach(({ mac, model }, i) => {
    const ext = String(2000 + i);
    csv.push(`${mac},${model}`);
    const lines = [
      '#!version:1.0.0.1',
      `## ${mac}.cfg`,
      'account.1.enable = 1',
      `account.1.label = Ext ${ext}`,
      `account.1.display_name = User ${ext}`,
      `account.1.auth_name = ${ext}`,
      `account.1.user_name = ${ext}`,
      `account.1.password = pw-${ext}-${(i * 7919) % 100000}`,
      `account.1.sip_server.1.address = ${mac === otherServer ? PLANTED.otherServer : PLANTED.server}`,
      'account.1.sip_server.1.port = 5060',
      '',
      '# Dial plan of the site',
      `dialplan.digitmap.string = ${groupMacs.has(mac) ? PLANTED.otherDialPlan : PLANTED.dialPlan}`,
      'local_time.ntp_server1 = pool.ntp.org',
      `static.firmware.url = ${model === 'T54W' ? PLANTED.t54wFirmware : PLANTED.firmware}`,
      'features.intercom.allow = 1',
    ];
    writeFileSync(path.join(phones, `${mac}.cfg`), `${lines.join('\n')}\n`);
  });
  writeFileSync(path.join(dir, 'models.csv'), `${csv.join('\n')}\n`);
  return { phones, csv: path.join(dir, 'models.csv'), otherServer, group: [...groupMacs].sort(), macs };
}
