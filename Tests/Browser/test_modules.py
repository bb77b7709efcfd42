"""The dashboard's pure modules (names, grouping, composer rules, realtime mapping), imported as the page imports
them and run in the browser: the same code, the same engine, no Node needed."""
import json


def run(page, body):
    page.open("/setup")  # any page of the origin: modules import from it
    return page.run_module(body)


def test_name_fallback_chain(page):
    names = run(page, """
        const { displayName } = await import('/js/names.js');
        const full = { participantDisplayName: 'Participant', contactDisplayName: 'Contact',
          contactIdentityDisplayName: 'Identity', contactIdentityExternalUserId: 'U123', channelThreadId: 'thread-1' };
        const drop = (row, key) => ({ ...row, [key]: '  ' });
        const steps = [full];
        for (const key of ['participantDisplayName', 'contactDisplayName', 'contactIdentityDisplayName',
                           'contactIdentityExternalUserId', 'channelThreadId']) steps.push(drop(steps.at(-1), key));
        return steps.map(displayName);
    """)
    assert names == ["Participant", "Contact", "Identity", "U123", "thread-1", "Unknown User"]


def test_avatar_fallback_chain_takes_https_images_only(page):
    avatars = run(page, """
        const { resolveAvatar } = await import('/js/names.js');
        const base = { participantDisplayName: 'สมชาย ใจดี' };
        return [
          resolveAvatar({ ...base, participantProfileImageUrl: 'https://a/p.jpg', contactIdentityProfileImageUrl: 'https://a/i.jpg' }),
          resolveAvatar({ ...base, participantProfileImageUrl: 'http://a/p.jpg', contactIdentityProfileImageUrl: 'https://a/i.jpg',
                          contactProfileImageUrl: 'https://a/c.jpg' }),
          resolveAvatar({ ...base, participantProfileImageUrl: 'javascript:alert(1)', contactProfileImageUrl: 'https://a/c.jpg' }),
          resolveAvatar({ ...base, participantProfileImageUrl: 'data:image/png;base64,AAAA' }),
          resolveAvatar({ participantDisplayName: 'Somchai Jaidee' }),
          resolveAvatar({ contactIdentityExternalUserId: 'U4af4980629a0c1b7' }),
          resolveAvatar({}),
        ];
    """)
    assert avatars[0]["url"] == "https://a/p.jpg"
    assert avatars[1]["url"] == "https://a/i.jpg"
    assert avatars[2]["url"] == "https://a/c.jpg"
    # A Thai name's initials skip the leading vowel (ใ) and keep the consonant.
    assert avatars[3] == {"kind": "initials", "text": "สจ"}
    assert avatars[4] == {"kind": "initials", "text": "SJ"}
    # An id is no name: no initials from it.
    assert avatars[5] == {"kind": "placeholder"}
    assert avatars[6] == {"kind": "placeholder"}


def test_a_group_chat_message_names_its_member(page):
    labels = run(page, """
        const { memberLabel } = await import('/js/names.js');
        return [memberLabel({ senderName: 'Somchai', senderExternalId: 'U4af4980629a1b2c3d4e5f6a7b8c9d0e1' }),
                memberLabel({ senderName: null, senderExternalId: 'U4af4980629a1b2c3d4e5f6a7b8c9d0e1' }),
                memberLabel({ senderName: null, senderExternalId: null })];
    """)
    assert labels == ["Somchai", "Member U4af4…d0e1", None]


def test_grouping_per_lead_and_platform(page):
    groups = run(page, """
        const { groupConversations } = await import('/js/names.js');
        const row = (id, leadId, channel, at, unread, extra = {}) => ({ id, leadId, channel, lastMessageAt: at,
          unreadCount: unread, providerThreadType: null, ...extra });
        return groupConversations([
          row('c1', 'L1', 'FACEBOOK', '2026-11-27T01:00:00.000000Z', 2, { providerThreadType: 'FACEBOOK_COMMENT' }),
          row('c2', 'L1', 'FACEBOOK', '2026-11-27T03:00:00.000000Z', 1, { participantDisplayName: 'Named' }),
          row('c3', 'L2', 'LINE', '2026-11-27T02:00:00.000000Z', 0),
          row('c4', 'L1', 'INSTAGRAM', '2026-11-27T00:30:00.000000Z', 5),
          row('c1', 'L1', 'FACEBOOK', '2026-11-27T00:00:00.000000Z', 9),  // an older copy of c1: ignored
        ]).map((g) => ({ key: g.key, threads: g.threads.map((t) => t.id), unread: g.unread }));
    """)
    assert groups == [
        {"key": "L1|FACEBOOK", "threads": ["c2", "c1"], "unread": 3},
        {"key": "L2|LINE", "threads": ["c3"], "unread": 0},
        {"key": "L1|INSTAGRAM", "threads": ["c4"], "unread": 5},
    ]


def test_first_page_reconciliation_drops_rows_that_left_the_filter(page):
    ids = run(page, """
        const { reconcileFirstPage } = await import('/js/names.js');
        const r = (id, at) => ({ id, lastMessageAt: `2026-11-27T0${at}:00:00.000000Z` });
        const held = [r('a', 9), r('b', 8), r('c', 7), r('old', 1)];
        // 'b' was read and left an "unread" filter; 'c' got a new message; 'old' is on a later page.
        return reconcileFirstPage(held, [r('c', 9.5 | 0), r('a', 9), r('d', 6)], true).map((x) => x.id);
    """)
    assert ids == ["c", "a", "d", "old"]


def test_composer_rules(page):
    rules = run(page, """
        const { composerRules, checkAttachment, sniffType } = await import('/js/rules.js');
        const hoursAgo = (h) => new Date(Date.now() - h * 3600e3).toISOString();
        const mb = 1024 * 1024;
        const fbDm = { channel: 'FACEBOOK', providerThreadType: 'MESSENGER_DM', lastInboundAt: hoursAgo(1) };
        const line = { channel: 'LINE', lastInboundAt: hoursAgo(24 * 30) };
        const comment = { channel: 'FACEBOOK', providerThreadType: 'FACEBOOK_COMMENT', lastInboundAt: hoursAgo(2),
                          privateReplySentAt: null, convertedToDmAt: null };
        const pick = (r) => ({ canSend: r.canSend, attachments: r.attachments, notices: r.notices.length,
                               blocked: r.attachmentBlockedReason, sendBlocked: r.sendBlockedReason });
        return {
          fbOpen: pick(composerRules(fbDm)),
          fbTagged: pick(composerRules({ ...fbDm, lastInboundAt: hoursAgo(30) })),
          fbClosed: pick(composerRules({ ...fbDm, lastInboundAt: hoursAgo(8 * 24) })),
          lineOld: pick(composerRules(line)),
          comment: pick(composerRules(comment)),
          commentAnswered: pick(composerRules({ ...comment, privateReplySentAt: hoursAgo(1) })),
          instagram: pick(composerRules({ channel: 'INSTAGRAM', lastInboundAt: hoursAgo(1) })),
          sniff: [sniffType([0xff, 0xd8, 0xff, 0xe0]), sniffType([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
                  sniffType([...'RIFF'].map((c) => c.charCodeAt(0)).concat([0, 0, 0, 0], [...'WEBP'].map((c) => c.charCodeAt(0)))),
                  sniffType([...'%PDF-1.7'].map((c) => c.charCodeAt(0))), sniffType([0x3c, 0x68, 0x74])],
          lineWebp: checkAttachment({ name: 'a.webp', size: 1000, sniffed: 'image/webp' }, 'image', composerRules(line)),
          fbBig: checkAttachment({ name: 'a.jpg', size: 9 * mb, sniffed: 'image/jpeg' }, 'image', composerRules(fbDm)),
          lineBig: checkAttachment({ name: 'a.jpg', size: 9 * mb, sniffed: 'image/jpeg' }, 'image', composerRules(line)),
          pdfBig: checkAttachment({ name: 'a.pdf', size: 11 * mb, sniffed: 'application/pdf' }, 'pdf', composerRules(line)),
          fakePdf: checkAttachment({ name: 'a.pdf', size: 10, sniffed: 'image/png' }, 'pdf', composerRules(line)),
          ok: checkAttachment({ name: 'a.png', size: 10, sniffed: 'image/png' }, 'image', composerRules(line)),
        };
    """)
    assert rules["fbOpen"] == {"canSend": True, "attachments": True, "notices": 0, "blocked": None, "sendBlocked": None}
    assert rules["fbTagged"]["canSend"] and rules["fbTagged"]["notices"] == 1
    assert not rules["fbClosed"]["canSend"] and "7 days" in rules["fbClosed"]["sendBlocked"]
    assert rules["lineOld"]["canSend"] and rules["lineOld"]["notices"] == 0  # LINE has no window
    assert not rules["comment"]["attachments"] and "Private Reply" in rules["comment"]["blocked"]
    assert rules["commentAnswered"]["attachments"]
    assert not rules["instagram"]["attachments"]
    assert rules["sniff"] == ["image/jpeg", "image/png", "image/webp", "application/pdf", None]
    assert "WEBP" in rules["lineWebp"]
    assert "8 MB" in rules["fbBig"]
    assert rules["lineBig"] is None
    assert "10 MB" in rules["pdfBig"]
    assert "not a PDF" in rules["fakePdf"]
    assert rules["ok"] is None


def test_realtime_events_map_to_refetches(page):
    wants = run(page, """
        const { refetchFor } = await import('/js/realtime.js');
        const t = 'x';
        return ['message.received', 'conversation.updated', 'message.created', 'message.status',
                'conversation.read', 'lead.updated', 'something.new'].map((type) =>
          refetchFor({ type, tenantId: t, conversationId: 'C', leadId: 'L', status: 'SENT' }))
          .concat([refetchFor({ type: 'conversation.updated', tenantId: t, conversationId: 'C', messageId: 'M' }),
                   refetchFor({ type: 'message.received', tenantId: t, conversationId: 'C', messageId: 'M' })]);
    """)
    received, updated, created, status, read, lead, unknown, revised, new_with_id = wants
    assert received == {"list": True, "conversations": ["C"], "leads": [], "messages": []}
    assert updated == created == received
    # A revised message (unsent, edited) is named so that an older page showing it is fetched again, and a new one
    # so that it is found wherever it falls (a redelivery can bring messages older than the newest shown).
    assert revised == {"list": True, "conversations": ["C"], "leads": [], "messages": ["M"]}
    assert new_with_id == revised
    assert status == {"list": False, "conversations": ["C"], "leads": [], "messages": []}
    assert read == {"list": True, "conversations": [], "leads": [], "messages": []}
    assert lead == {"list": True, "conversations": [], "leads": ["L"], "messages": []}
    assert unknown["list"] is True, json.dumps(unknown)
