// turnpike demo page logic: pairing API, WebSocket signaling, relay-only RTCPeerConnection, chat and camera.
//
// Flow: "Start" creates a join code (POST /api/rooms) and polls POST /api/rooms/check until the other device has
// accepted it (POST /api/rooms/accept). Both devices then join the room on /ws with their device id, take the TURN
// credentials from room_joined (or POST /api/rooms/turn), and the initiator offers a data channel named "chat".
//
// Tests drive the page through its element ids and window.turnpikeDemo:
//   state            idle | creating | showing_code | joining | signaling | waiting_for_peer | connecting |
//                    connected | closed | error
//   deviceId, joinCode, roomId, isInitiator, signalingState, iceConnectionState, connectionState,
//   dataChannelState, selectedPairType ("relay/relay" once known), selectedPair, iceServers, iceServersSource
//   ("room_joined" | "POST /api/rooms/turn" | "ice_servers"), turnExpiresAt,
//   closedReason, lastError, received[], sent[], serverMessages[] (types of every server message, in order)
//   send(text) -> bool, getSelectedPair() -> Promise<pair|null>, deleteRoom() -> Promise<bool>
'use strict';

(() => {
  const JOIN_CODE_DIGITS = 6;
  const JOIN_CODE_TTL_SECONDS = 300;
  const CHECK_INTERVAL_MS = 1000;
  const FETCH_TIMEOUT_MS = 10000;
  const CONNECT_HINT_MS = 15000;
  const ROOM_CLOSED_GRACE_MS = 2000;
  const MAX_LOG_ENTRIES = 500;
  const DEVICE_ID_KEY = 'turnpike-demo-device-id';
  const RELAY_ONLY_KEY = 'turnpike-demo-relay-only';

  const $ = (id) => document.getElementById(id);

  const demo = {
    state: 'idle',
    deviceId: loadDeviceId(),
    joinCode: null,
    roomId: null,
    isInitiator: null,
    signalingState: 'closed',
    iceConnectionState: 'none',
    connectionState: 'none',
    dataChannelState: 'none',
    selectedPairType: null,
    selectedPair: null,
    iceServers: null,
    iceServersSource: null,
    turnExpiresAt: null,
    closedReason: null,
    lastError: null,
    received: [],
    sent: [],
    serverMessages: [],
    send: (text) => sendChat(String(text)),
    getSelectedPair: () => (peer.pc ? readSelectedPair(peer.pc) : Promise.resolve(null)),
    deleteRoom: () => deleteRoom(),
  };
  window.turnpikeDemo = demo;

  // Pairing: the poll timer of the creator.
  const pairing = { timer: null, countdown: null, generation: 0 };
  // Signaling: the socket, its reconnect timer and the serial queue every server message goes through.
  const sig = { ws: null, reconnectTimer: null, backoffMs: 1000, queue: Promise.resolve(), iceServersPromise: null };
  // WebRTC: the current peer connection and what belongs to it.
  const peer = {
    pc: null,
    dc: null,
    pendingCandidates: [],
    statsTimer: null,
    hintTimer: null,
    relayCandidates: 0,
    errorCodes: new Set(), // icecandidateerror codes seen (401: credentials refused, 701: no answer)
    diagnosed: false, // a specific failure is on the banner; the generic hint must not replace it
  };
  // Camera: the local stream, if on.
  const camera = { stream: null };

  // ---------------------------------------------------------------- helpers

  // Per tab (sessionStorage), so two tabs of one browser are two devices.
  function loadDeviceId() {
    let id = readStorage(DEVICE_ID_KEY);
    if (!id) {
      id = 'web-' + randomHex(8);
      writeStorage(DEVICE_ID_KEY, id);
    }
    return id;
  }

  function readStorage(key) {
    try {
      return sessionStorage.getItem(key);
    } catch (e) {
      return null;
    }
  }

  function writeStorage(key, value) {
    try {
      sessionStorage.setItem(key, value);
    } catch (e) {
      // Storage disabled: the value lives as long as the page.
    }
  }

  function randomHex(bytes) {
    const buf = new Uint8Array(bytes);
    crypto.getRandomValues(buf);
    return Array.from(buf, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function randomCode() {
    const buf = new Uint32Array(1);
    const limit = 10 ** JOIN_CODE_DIGITS;
    // Reject the top of the range so every code is equally likely.
    const bound = Math.floor(0x100000000 / limit) * limit;
    do {
      crypto.getRandomValues(buf);
    } while (buf[0] >= bound);
    return String(buf[0] % limit).padStart(JOIN_CODE_DIGITS, '0');
  }

  async function api(method, path, body) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), FETCH_TIMEOUT_MS);
    try {
      const res = await fetch(path, {
        method,
        headers: { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        signal: controller.signal,
      });
      const text = await res.text();
      let data = null;
      if (text) {
        try {
          data = JSON.parse(text);
        } catch (e) {
          data = null;
        }
      }
      const retry = Number(res.headers.get('Retry-After'));
      return { status: res.status, data, retryAfter: Number.isFinite(retry) && retry > 0 ? retry : null };
    } catch (e) {
      return { status: 0, data: null, retryAfter: null };
    } finally {
      clearTimeout(timer);
    }
  }

  function errorCode(r) {
    return (r.data && r.data.error) || (r.status ? 'HTTP ' + r.status : 'server unreachable');
  }

  function describeApiError(r) {
    switch (r.status) {
      case 0:
        return 'The server did not answer. Is turnpiked running?';
      case 404:
        return 'No such code, or it has expired. Check the digits, or press Start again on the other device.';
      case 409:
        return 'This code has already been used. Press Start again on the other device.';
      case 429:
        return 'Too many attempts. Try again in ' + (r.retryAfter || 60) + ' s.';
      default:
        return 'The server answered ' + r.status + ' (' + errorCode(r) + ').';
    }
  }

  function log(text, tone) {
    const list = $('event-log');
    const item = document.createElement('li');
    if (tone) item.dataset.tone = tone;
    const time = document.createElement('time');
    time.textContent = new Date().toLocaleTimeString();
    item.append(time, ' ', text);
    list.append(item);
    while (list.children.length > MAX_LOG_ENTRIES) list.firstElementChild.remove();
  }

  function banner(text, tone) {
    const el = $('banner');
    el.textContent = text;
    el.dataset.tone = tone || 'info';
  }

  function setState(state) {
    if (demo.state === state) return;
    demo.state = state;
    document.body.dataset.state = state;
    log('state: ' + state);
    render();
  }

  function fail(message) {
    demo.lastError = message;
    banner(message, 'error');
    log(message, 'error');
    setState('error');
  }

  function setText(id, text, tone) {
    const el = $(id);
    el.textContent = text;
    if (tone) el.dataset.tone = tone;
    else delete el.dataset.tone;
  }

  function formatDuration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s >= 3600) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
    return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
  }

  // ---------------------------------------------------------------- rendering

  function render() {
    const s = demo.state;
    const pairingDone = !['idle', 'creating', 'showing_code', 'joining'].includes(s);
    const inRoom = demo.roomId !== null;
    $('session-card').hidden = !inRoom;
    $('chat-card').hidden = !inRoom;
    $('pair-grid').hidden = pairingDone;
    $('pair-summary').hidden = !pairingDone;
    $('pair-summary').textContent = pairingDone && demo.joinCode ? 'Paired with code ' + demo.joinCode + '.' : '';
    $('start-btn').disabled = s !== 'idle' && s !== 'error';
    $('join-btn').disabled = s !== 'idle' && s !== 'error';
    $('code-input').disabled = s !== 'idle' && s !== 'error';
    $('start-btn').hidden = s === 'showing_code';
    $('code-box').hidden = s !== 'showing_code';
    $('delete-btn').hidden = !inRoom || s === 'closed';
    $('restart-btn').hidden = !(s === 'closed' || (s === 'error' && inRoom));
    $('relay-only').disabled = peer.pc !== null || s === 'closed';

    setText('pairing-state', s === 'closed' ? 'room closed (' + demo.closedReason + ')' : inRoom ? 'paired' : s,
            inRoom && s !== 'closed' ? 'good' : null);
    setText('signaling-state', demo.signalingState, demo.signalingState === 'joined' ? 'good' : null);
    const ice = demo.iceConnectionState;
    setText('ice-state', ice === 'none' ? '–' : ice + ' (connection: ' + demo.connectionState + ')',
            ice === 'connected' || ice === 'completed' ? 'good' : ice === 'failed' ? 'bad' : null);
    setText('channel-state', demo.dataChannelState === 'none' ? '–' : demo.dataChannelState,
            demo.dataChannelState === 'open' ? 'good' : null);
    renderPair();
    $('room-id').textContent = demo.roomId || '–';
    const open = demo.dataChannelState === 'open';
    $('chat-input').disabled = !open;
    $('chat-send').disabled = !open;
    const cameraSupported = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
    const cameraBtn = $('camera-btn');
    cameraBtn.disabled = !cameraSupported || s === 'closed';
    cameraBtn.title = cameraSupported ? '' : 'The camera needs HTTPS (or localhost).';
    cameraBtn.textContent = camera.stream ? 'Stop camera' : 'Start camera';
  }

  function renderPair() {
    const p = demo.selectedPair;
    if (!p) {
      setText('pair-type', '–');
      return;
    }
    // For a relay candidate, relayProtocol is how this browser reaches the TURN server (protocol stays udp).
    const transport = p.relayProtocol ? 'to TURN over ' + p.relayProtocol : p.protocol;
    const text = p.localType + ' ↔ ' + p.remoteType + ' (' + transport + ') · ' + p.localAddress + ' → ' +
                 p.remoteAddress + (p.rttMs !== null ? ' · rtt ' + p.rttMs + ' ms' : '');
    setText('pair-type', text, p.localType === 'relay' || p.remoteType === 'relay' ? 'good' : 'warn');
  }

  function renderTurn() {
    const servers = demo.iceServers || [];
    const urls = [];
    for (const server of servers) {
      for (const url of [].concat(server.urls || [])) urls.push(url);
    }
    setText('turn-urls', urls.length ? urls.join(', ') : 'none');
    if (demo.turnExpiresAt) {
      const left = (Date.parse(demo.turnExpiresAt) - Date.now()) / 1000;
      setText('turn-expiry', 'valid until ' + new Date(demo.turnExpiresAt).toLocaleTimeString() + ' (in ' +
              formatDuration(left) + ')');
    } else {
      setText('turn-expiry', urls.length ? 'no expiry given' : '–');
    }
  }

  // ---------------------------------------------------------------- pairing

  async function startPairing() {
    hidePairError();
    setState('creating');
    const generation = ++pairing.generation;
    for (let attempt = 0; attempt < 5; attempt++) {
      const code = randomCode();
      const r = await api('POST', '/api/rooms',
                          { joinid: code, client1: demo.deviceId, expiresInSeconds: JOIN_CODE_TTL_SECONDS });
      if (generation !== pairing.generation) return;
      if (r.status === 201) {
        showCode(code);
        return;
      }
      if (r.status !== 409) {
        pairError('Could not create a join code. ' + describeApiError(r));
        return;
      }
      // 409: this code is live for someone else; pick another.
    }
    pairError('Could not find a free join code. Try again.');
  }

  function showCode(code) {
    demo.joinCode = code;
    $('join-code').textContent = code;
    const expiresAt = Date.now() + JOIN_CODE_TTL_SECONDS * 1000;
    const tick = () => {
      const left = (expiresAt - Date.now()) / 1000;
      $('code-expiry').textContent = 'Valid for ' + formatDuration(left);
    };
    tick();
    pairing.countdown = setInterval(tick, 1000);
    banner('Enter ' + code + ' on the other device.', 'info');
    log('join code ' + code + ' created (valid ' + JOIN_CODE_TTL_SECONDS + ' s)');
    setState('showing_code');
    scheduleCheck(pairing.generation, CHECK_INTERVAL_MS);
  }

  function scheduleCheck(generation, delayMs) {
    pairing.timer = setTimeout(() => checkCode(generation), delayMs);
  }

  async function checkCode(generation) {
    const r = await api('POST', '/api/rooms/check', { joinid: demo.joinCode, client1: demo.deviceId });
    if (generation !== pairing.generation || demo.state !== 'showing_code') return;
    if (r.status === 200 && r.data && typeof r.data.roomid === 'string') {
      stopPairing();
      log('the other device joined');
      enterRoom(r.data.roomid);
    } else if (r.status === 204) {
      scheduleCheck(generation, CHECK_INTERVAL_MS);
    } else if (r.status === 404) {
      stopPairing();
      pairError('The code expired before anyone used it. Press Start for a new one.');
    } else if (r.status === 429) {
      scheduleCheck(generation, (r.retryAfter || 5) * 1000);
    } else if (r.status === 0 || r.status >= 500) {
      log('check failed (' + errorCode(r) + '); retrying', 'warn');
      scheduleCheck(generation, CHECK_INTERVAL_MS * 2);
    } else {
      stopPairing();
      pairError('Checking the code failed. ' + describeApiError(r));
    }
  }

  function stopPairing() {
    pairing.generation++;
    clearTimeout(pairing.timer);
    clearInterval(pairing.countdown);
    pairing.timer = null;
    pairing.countdown = null;
  }

  function cancelPairing() {
    stopPairing();
    demo.joinCode = null;
    banner('Press Start on one device, then enter its code on the other.', 'info');
    setState('idle');
  }

  async function joinWithCode(raw) {
    hidePairError();
    const code = String(raw).replace(/[\s-]/g, '');
    if (!new RegExp('^[0-9]{' + JOIN_CODE_DIGITS + '}$').test(code)) {
      showPairError('A join code has ' + JOIN_CODE_DIGITS + ' digits.');
      return;
    }
    setState('joining');
    const r = await api('POST', '/api/rooms/accept', { joinid: code, client2: demo.deviceId });
    if (r.status === 200 && r.data && typeof r.data.roomid === 'string') {
      demo.joinCode = code;
      log('joined with code ' + code);
      enterRoom(r.data.roomid);
    } else {
      pairError('Could not join. ' + describeApiError(r));
    }
  }

  function pairError(message) {
    showPairError(message);
    demo.lastError = message;
    log(message, 'error');
    banner('Press Start on one device, then enter its code on the other.', 'info');
    setState('idle');
  }

  function showPairError(message) {
    const el = $('pair-error');
    el.textContent = message;
    el.hidden = false;
  }

  function hidePairError() {
    $('pair-error').hidden = true;
  }

  // ---------------------------------------------------------------- signaling

  function enterRoom(roomId) {
    demo.roomId = roomId;
    log('room ' + roomId);
    banner('Paired. Connecting to the signaling server…', 'info');
    setState('signaling');
    connectSignaling();
  }

  function signalingUrl() {
    return (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/ws';
  }

  function connectSignaling() {
    clearTimeout(sig.reconnectTimer);
    const ws = new WebSocket(signalingUrl());
    sig.ws = ws;
    demo.signalingState = 'connecting';
    render();
    ws.onopen = () => {
      if (ws !== sig.ws) return;
      sig.backoffMs = 1000;
      demo.signalingState = 'open';
      log('signaling connected');
      sendSignal({ type: 'join_room', roomId: demo.roomId, deviceId: demo.deviceId });
      render();
    };
    ws.onmessage = (event) => {
      if (ws !== sig.ws || typeof event.data !== 'string') return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (e) {
        log('unreadable signaling message', 'warn');
        return;
      }
      if (!message || typeof message.type !== 'string') return;
      demo.serverMessages.push(message.type);
      // One message at a time: an offer waits until the peer connection exists, candidates until the offer is set.
      sig.queue = sig.queue.then(() => handleSignal(message)).catch((e) => log('signaling: ' + e, 'error'));
    };
    ws.onclose = (event) => {
      if (ws !== sig.ws) return;
      sig.ws = null;
      demo.signalingState = 'closed';
      render();
      if (demo.state === 'closed' || demo.state === 'error') return;
      const delay = sig.backoffMs;
      sig.backoffMs = Math.min(sig.backoffMs * 2, 15000);
      log('signaling closed (' + event.code + '); reconnecting in ' + delay / 1000 + ' s', 'warn');
      sig.reconnectTimer = setTimeout(connectSignaling, delay);
    };
  }

  function sendSignal(message) {
    if (!sig.ws || sig.ws.readyState !== WebSocket.OPEN) return false;
    sig.ws.send(JSON.stringify(message));
    return true;
  }

  async function handleSignal(m) {
    if (demo.state === 'closed' && m.type !== 'room_closed') return;
    switch (m.type) {
      case 'connected':
        break;
      case 'room_joined':
        demo.isInitiator = !!m.isInitiator;
        demo.signalingState = 'joined';
        if (Array.isArray(m.iceServers)) {
          setIceServers(m.iceServers, m.expiresAt || null, 'room_joined');
        } else if (!sig.iceServersPromise) {
          sig.iceServersPromise = fetchIceServers();
        }
        if (!m.ready) {
          banner('Waiting for the other device to connect…', 'info');
          setState('waiting_for_peer');
        }
        render();
        break;
      case 'room_ready':
        demo.isInitiator = !!m.isInitiator;
        log('both devices connected; ' + (demo.isInitiator ? 'this device offers' : 'the other device offers'));
        await startPeer(demo.isInitiator);
        break;
      case 'room_full':
        fail('The room is full: two other connections are in it.');
        break;
      case 'webrtc_offer':
        await onOffer(m.sdp);
        break;
      case 'webrtc_answer':
        await onAnswer(m.sdp);
        break;
      case 'ice_candidate':
        await onRemoteCandidate(m.candidate);
        break;
      case 'peer_left':
      case 'peer_disconnected':
        log(m.message || m.type, 'warn');
        closePeer();
        if (demo.state !== 'error') {
          banner('The other device left. Waiting for it to come back…', 'warn');
          setState('waiting_for_peer');
        }
        break;
      case 'room_closed':
        closeRoom(m.reason || 'closed');
        break;
      case 'ice_servers':
        if (Array.isArray(m.iceServers)) setIceServers(m.iceServers, m.expiresAt || null, 'ice_servers');
        break;
      case 'error':
        onServerError(String(m.error));
        break;
      case 'pong':
      case 'left_room':
        break;
      default:
        log('ignored signaling message ' + m.type);
    }
  }

  function onServerError(error) {
    log('server: ' + error, 'error');
    if (error === 'Unknown room') {
      fail('The server does not know this room any more. Start over.');
    } else if (error === 'Not a member of this room') {
      fail('The server says this device is not a member of the room.');
    }
  }

  function closeRoom(reason) {
    if (demo.state === 'closed') return;
    demo.closedReason = reason;
    log('room closed: ' + reason, 'warn');
    banner('room closed: ' + reason + '. Its TURN credentials are revoked; press Start over to pair again.',
           'closed');
    stopPairing();
    closePeer();
    stopCamera();
    clearTimeout(sig.reconnectTimer);
    demo.selectedPair = null;
    setText('turn-expiry', 'revoked with the room');
    setState('closed');
    const ws = sig.ws;
    sig.ws = null;
    if (ws) ws.close(1000);
    demo.signalingState = 'closed';
    render();
  }

  async function deleteRoom() {
    if (!demo.roomId || demo.state === 'closed') return false;
    $('delete-btn').disabled = true;
    log('deleting the room');
    const r = await api('DELETE', '/api/rooms', { roomid: demo.roomId });
    $('delete-btn').disabled = false;
    if (r.status !== 200) {
      log('delete failed: ' + errorCode(r), 'error');
      banner('Deleting the room failed: ' + errorCode(r), 'error');
      return false;
    }
    // The server sends room_closed over the socket before it answers; close locally if that never comes.
    setTimeout(() => closeRoom('deleted'), ROOM_CLOSED_GRACE_MS);
    return true;
  }

  // ---------------------------------------------------------------- TURN credentials

  async function fetchIceServers() {
    const r = await api('POST', '/api/rooms/turn', { roomid: demo.roomId, deviceId: demo.deviceId });
    if (r.status === 200 && r.data && Array.isArray(r.data.iceServers)) {
      setIceServers(r.data.iceServers, r.data.expiresAt || null, 'POST /api/rooms/turn');
      return true;
    }
    setText('turn-urls', r.status === 503 ? 'none (turn.urls is empty on the server)' : 'none: ' + errorCode(r));
    if (r.status === 503 && errorCode(r) === 'turn_not_configured') {
      log('this server hands out no TURN credentials (turn.urls is empty)', 'warn');
    } else {
      log('no TURN credentials: ' + errorCode(r), 'error');
    }
    return false;
  }

  function setIceServers(servers, expiresAt, source) {
    demo.iceServers = servers;
    demo.iceServersSource = source;
    demo.turnExpiresAt = expiresAt;
    sig.iceServersPromise = Promise.resolve(true);
    log('TURN credentials from ' + source + (expiresAt ? ', valid until ' + expiresAt : ''));
    renderTurn();
    if (peer.pc && source === 'ice_servers') {
      try {
        peer.pc.setConfiguration({ iceServers: servers, iceTransportPolicy: policy() });
        log('peer connection now uses the new credentials');
      } catch (e) {
        log('could not apply new credentials: ' + e.message, 'error');
      }
    }
  }

  function policy() {
    return $('relay-only').checked ? 'relay' : 'all';
  }

  // ---------------------------------------------------------------- WebRTC

  // Creates the peer connection; the offerer also creates the data channel and sends the offer.
  async function startPeer(offerer) {
    closePeer();
    if (!sig.iceServersPromise) sig.iceServersPromise = fetchIceServers();
    await sig.iceServersPromise;
    if (demo.state === 'closed' || demo.state === 'error') return;
    const servers = demo.iceServers || [];
    if (servers.length === 0 && policy() === 'relay') {
      fail('No TURN server to relay through: this server hands out no TURN credentials. Set turn.urls in ' +
           'turnpike.conf, or untick "Relay only" and start over to try a direct connection.');
      return;
    }
    const pc = new RTCPeerConnection({ iceServers: servers, iceTransportPolicy: policy() });
    peer.pc = pc;
    peer.pendingCandidates = [];
    peer.relayCandidates = 0;
    peer.errorCodes = new Set();
    peer.diagnosed = false;
    demo.iceConnectionState = pc.iceConnectionState;
    demo.connectionState = pc.connectionState;
    demo.selectedPair = null;
    demo.selectedPairType = null;
    wirePeer(pc);
    banner('Connecting through the relay…', 'info');
    setState('connecting');
    peer.hintTimer = setTimeout(() => {
      if (peer.pc === pc && demo.dataChannelState !== 'open' && !peer.diagnosed) {
        banner('No connection after ' + CONNECT_HINT_MS / 1000 + ' s. Check that coturn is running and reachable ' +
               'on the TURN URLs below, and see the event log for candidate errors.', 'warn');
      }
    }, CONNECT_HINT_MS);
    if (offerer) {
      // A video transceiver from the start lets either side switch its camera on later without renegotiating.
      const transceiver = pc.addTransceiver('video', { direction: 'sendrecv' });
      if (camera.stream) await transceiver.sender.replaceTrack(camera.stream.getVideoTracks()[0]);
      wireChannel(pc.createDataChannel('chat'));
      const offer = await pc.createOffer();
      if (peer.pc !== pc) return;
      await pc.setLocalDescription(offer);
      sendSignal({ type: 'webrtc_offer', sdp: pc.localDescription.sdp });
      log('offer sent');
    }
  }

  function wirePeer(pc) {
    pc.onicecandidate = (event) => {
      if (peer.pc !== pc) return;
      if (event.candidate) {
        if (event.candidate.type === 'relay') peer.relayCandidates++;
        log('local candidate: ' + (event.candidate.type || '?') + ' ' + (event.candidate.protocol || '') + ' ' +
            (event.candidate.address || '') + (event.candidate.port ? ':' + event.candidate.port : ''));
      } else {
        log('candidate gathering done (' + peer.relayCandidates + ' relay)');
        if (peer.relayCandidates === 0 && policy() === 'relay') {
          peer.diagnosed = true;
          if (peer.errorCodes.has(401)) {
            banner('The TURN server refused the credentials (401). Check that coturn uses turn.realm as its realm ' +
                   'and reads turnpike\'s database (the config from turnpikectl coturn-config).', 'error');
          } else {
            banner('No relay candidates: the TURN server did not answer. Check that coturn is running and ' +
                   'reachable on the TURN URLs below.', 'error');
          }
        }
      }
      sendSignal({ type: 'ice_candidate', candidate: event.candidate ? event.candidate.toJSON() : null });
    };
    pc.onicecandidateerror = (event) => {
      if (peer.pc !== pc) return;
      peer.errorCodes.add(event.errorCode);
      let text = 'candidate error ' + event.errorCode + ' ' + (event.errorText || '') + ' at ' + (event.url || '?');
      if (event.errorCode === 401) text += ' (TURN rejected the credentials: check turn.realm and the database)';
      log(text, 'error');
    };
    pc.oniceconnectionstatechange = () => {
      if (peer.pc !== pc) return;
      demo.iceConnectionState = pc.iceConnectionState;
      log('ICE ' + pc.iceConnectionState);
      if (pc.iceConnectionState === 'failed') banner('The connection failed (ICE failed).', 'error');
      if (pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed') refreshStats(pc);
      render();
    };
    pc.onconnectionstatechange = () => {
      if (peer.pc !== pc) return;
      demo.connectionState = pc.connectionState;
      render();
    };
    pc.ondatachannel = (event) => {
      if (peer.pc === pc) wireChannel(event.channel);
    };
    pc.ontrack = (event) => {
      if (peer.pc !== pc || event.track.kind !== 'video') return;
      const video = $('remote-video');
      video.srcObject = new MediaStream([event.track]);
      // The track unmutes when frames arrive (the other side switched its camera on) and mutes when they stop.
      event.track.onunmute = () => {
        if (peer.pc !== pc) return;
        showVideo('remote-figure', true);
        video.play().catch(() => {});
      };
      event.track.onmute = () => showVideo('remote-figure', false);
    };
    peer.statsTimer = setInterval(() => refreshStats(pc), 1000);
  }

  function wireChannel(dc) {
    peer.dc = dc;
    demo.dataChannelState = dc.readyState;
    dc.onopen = () => {
      if (peer.dc !== dc) return;
      demo.dataChannelState = 'open';
      clearTimeout(peer.hintTimer);
      log('data channel "' + dc.label + '" open');
      banner('Connected. Messages go through the TURN relay.', 'good');
      setState('connected');
      refreshStats(peer.pc);
      $('chat-input').focus();
    };
    dc.onclose = () => {
      if (peer.dc !== dc) return;
      demo.dataChannelState = 'closed';
      log('data channel closed');
      render();
    };
    dc.onmessage = (event) => {
      if (peer.dc !== dc || typeof event.data !== 'string') return;
      demo.received.push(event.data);
      addChat(event.data, 'peer');
    };
    render();
  }

  async function onOffer(sdp) {
    const description = toDescription('offer', sdp);
    if (!description) return;
    // An offer while this side has none pending (or crossed our own offer): answer it on a fresh connection.
    if (!peer.pc || peer.pc.signalingState !== 'stable' || peer.pc.remoteDescription) await startPeer(false);
    const pc = peer.pc;
    if (!pc) return;
    await pc.setRemoteDescription(description);
    for (const transceiver of pc.getTransceivers()) {
      if (transceiver.receiver.track.kind !== 'video') continue;
      transceiver.direction = 'sendrecv';
      if (camera.stream) await transceiver.sender.replaceTrack(camera.stream.getVideoTracks()[0]);
    }
    await addPendingCandidates(pc);
    const answer = await pc.createAnswer();
    if (peer.pc !== pc) return;
    await pc.setLocalDescription(answer);
    sendSignal({ type: 'webrtc_answer', sdp: pc.localDescription.sdp });
    log('offer received, answer sent');
  }

  async function onAnswer(sdp) {
    const description = toDescription('answer', sdp);
    const pc = peer.pc;
    if (!description || !pc || pc.signalingState !== 'have-local-offer') return;
    await pc.setRemoteDescription(description);
    log('answer received');
    await addPendingCandidates(pc);
  }

  function toDescription(type, sdp) {
    if (typeof sdp === 'string') return { type, sdp };
    if (sdp && typeof sdp.sdp === 'string') return { type: sdp.type || type, sdp: sdp.sdp };
    log('ignored ' + type + ' without sdp', 'warn');
    return null;
  }

  async function onRemoteCandidate(candidate) {
    const pc = peer.pc;
    if (!pc) return;
    if (!pc.remoteDescription) {
      peer.pendingCandidates.push(candidate);
      return;
    }
    await addCandidate(pc, candidate);
  }

  async function addPendingCandidates(pc) {
    const pending = peer.pendingCandidates;
    peer.pendingCandidates = [];
    for (const candidate of pending) await addCandidate(pc, candidate);
  }

  async function addCandidate(pc, candidate) {
    try {
      if (candidate) await pc.addIceCandidate(candidate);
      else await pc.addIceCandidate();
    } catch (e) {
      if (candidate) log('could not add a remote candidate: ' + e.message, 'warn');
    }
  }

  function closePeer() {
    clearInterval(peer.statsTimer);
    clearTimeout(peer.hintTimer);
    const { pc, dc } = peer;
    peer.pc = null;
    peer.dc = null;
    peer.pendingCandidates = [];
    if (dc) dc.close();
    if (pc) {
      pc.close();
      log('peer connection closed');
    }
    demo.dataChannelState = dc ? 'closed' : demo.dataChannelState;
    demo.iceConnectionState = pc ? 'closed' : demo.iceConnectionState;
    demo.connectionState = pc ? 'closed' : demo.connectionState;
    $('remote-video').srcObject = null;
    showVideo('remote-figure', false);
    render();
  }

  function showVideo(figureId, visible) {
    $(figureId).hidden = !visible;
    $('video-box').hidden = $('local-figure').hidden && $('remote-figure').hidden;
  }

  async function readSelectedPair(pc) {
    const stats = await pc.getStats();
    let pair = null;
    stats.forEach((report) => {
      if (report.type === 'transport' && report.selectedCandidatePairId) {
        pair = stats.get(report.selectedCandidatePairId);
      }
    });
    if (!pair) {
      stats.forEach((report) => {
        if (!pair && report.type === 'candidate-pair' && report.nominated && report.state === 'succeeded') {
          pair = report;
        }
      });
    }
    if (!pair) return null;
    const local = stats.get(pair.localCandidateId) || {};
    const remote = stats.get(pair.remoteCandidateId) || {};
    return {
      localType: local.candidateType || null,
      remoteType: remote.candidateType || null,
      protocol: local.protocol || null,
      relayProtocol: local.relayProtocol || null,
      localAddress: (local.address || local.ip || '?') + ':' + local.port,
      remoteAddress: (remote.address || remote.ip || '?') + ':' + remote.port,
      turnUrl: local.url || null,
      state: pair.state,
      rttMs: typeof pair.currentRoundTripTime === 'number' ? Math.round(pair.currentRoundTripTime * 1000) : null,
      bytesSent: pair.bytesSent || 0,
      bytesReceived: pair.bytesReceived || 0,
    };
  }

  async function refreshStats(pc) {
    if (!pc || peer.pc !== pc) return;
    try {
      const pair = await readSelectedPair(pc);
      if (peer.pc !== pc) return;
      const type = pair ? pair.localType + '/' + pair.remoteType : null;
      if (type && type !== demo.selectedPairType) log('route: ' + type + ' (' + pair.protocol + ')');
      demo.selectedPair = pair;
      demo.selectedPairType = type;
      renderPair();
    } catch (e) {
      // getStats fails only on a closed connection.
    }
  }

  // ---------------------------------------------------------------- chat

  function sendChat(text) {
    const dc = peer.dc;
    if (!text || !dc || dc.readyState !== 'open') return false;
    try {
      dc.send(text);
    } catch (e) {
      log('send failed: ' + e.message, 'error');
      return false;
    }
    demo.sent.push(text);
    addChat(text, 'me');
    return true;
  }

  function addChat(text, who) {
    const item = document.createElement('li');
    item.className = who;
    item.textContent = text;
    const list = $('chat-log');
    list.append(item);
    list.scrollTop = list.scrollHeight;
  }

  // ---------------------------------------------------------------- camera

  async function toggleCamera() {
    if (camera.stream) {
      stopCamera();
      render();
      return;
    }
    const button = $('camera-btn');
    button.disabled = true;
    try {
      camera.stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
    } catch (e) {
      log('camera: ' + e.message, 'error');
      banner('Could not start the camera: ' + e.message, 'warn');
      render();
      return;
    }
    $('local-video').srcObject = camera.stream;
    showVideo('local-figure', true);
    await setSenderTrack(camera.stream.getVideoTracks()[0]);
    log('camera on');
    render();
  }

  function stopCamera() {
    if (!camera.stream) return;
    for (const track of camera.stream.getTracks()) track.stop();
    camera.stream = null;
    $('local-video').srcObject = null;
    showVideo('local-figure', false);
    setSenderTrack(null);
    log('camera off');
  }

  async function setSenderTrack(track) {
    if (!peer.pc) return;
    for (const transceiver of peer.pc.getTransceivers()) {
      if (transceiver.receiver.track.kind !== 'video' || transceiver.stopped) continue;
      try {
        await transceiver.sender.replaceTrack(track);
      } catch (e) {
        log('camera track: ' + e.message, 'warn');
      }
    }
  }

  // ---------------------------------------------------------------- wiring

  function init() {
    $('device-id').textContent = demo.deviceId;
    document.body.dataset.state = demo.state;
    $('start-btn').addEventListener('click', startPairing);
    $('cancel-btn').addEventListener('click', cancelPairing);
    $('join-form').addEventListener('submit', (event) => {
      event.preventDefault();
      joinWithCode($('code-input').value);
    });
    $('code-input').addEventListener('input', () => hidePairError());
    const relayOnly = $('relay-only');
    relayOnly.checked = readStorage(RELAY_ONLY_KEY) !== 'false';
    relayOnly.addEventListener('change', () => writeStorage(RELAY_ONLY_KEY, String(relayOnly.checked)));
    $('chat-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const input = $('chat-input');
      if (sendChat(input.value)) input.value = '';
    });
    $('delete-btn').addEventListener('click', deleteRoom);
    $('restart-btn').addEventListener('click', () => location.reload());
    $('camera-btn').addEventListener('click', toggleCamera);
    setInterval(() => {
      if (demo.iceServers) renderTurn();
    }, 10000);
    window.addEventListener('pagehide', () => {
      if (sig.ws) sig.ws.close(1000);
      if (peer.pc) peer.pc.close();
    });
    log('device id ' + demo.deviceId);
    render();
  }

  init();
})();
