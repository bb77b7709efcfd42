/// A LINE webhook batch shaped like the Messaging API reference examples: one of each message type,
/// follow/unfollow, a group message, a postback, and a redelivery of the first event.
enum LineFixtures {
    static let batch = #"""
    {
      "destination": "U4af4980629a1b2c3d4e5f60718293a4b",
      "events": [
        {
          "type": "message", "mode": "active", "timestamp": 1692251666727,
          "source": {"type": "user", "userId": "U206d25c2ea6bd87c17655609a1c37cb8"},
          "webhookEventId": "01FZ74A0TDDPYRVKNK77XKC3ZR",
          "deliveryContext": {"isRedelivery": false},
          "replyToken": "38ef843bde154d9b91c21320ffd7a0b9",
          "message": {"id": "468789577898262530", "type": "text", "quoteToken": "q3Plxr4AgKd",
                      "text": "สวัสดีครับ อยากสอบถามราคา"}
        },
        {
          "type": "message", "mode": "active", "timestamp": 1692251667000,
          "source": {"type": "user", "userId": "U206d25c2ea6bd87c17655609a1c37cb8"},
          "webhookEventId": "01FZ74ASS536FW97EX38NKCZQK",
          "deliveryContext": {"isRedelivery": false},
          "replyToken": "fbf94e269485410da6b7e3a5e33283e8",
          "message": {"id": "468789612345678901", "type": "image", "quoteToken": "yHAz4Ua2wx7",
                      "contentProvider": {"type": "line"},
                      "imageSet": {"id": "E005D41A7288F41B65593ED38FF6E9834B046AB36A37921A56BC236F13A91855",
                                   "index": 1, "total": 2}}
        },
        {
          "type": "message", "mode": "active", "timestamp": 1692251668000,
          "source": {"type": "user", "userId": "U206d25c2ea6bd87c17655609a1c37cb8"},
          "webhookEventId": "01H810YECXQQZ37VAXPF6H9E6T",
          "deliveryContext": {"isRedelivery": false},
          "replyToken": "0f3779fba3b349968c5d07db31eab56f",
          "message": {"id": "468789650000000002", "type": "sticker", "quoteToken": "yHAz4Ua2wx8",
                      "packageId": "446", "stickerId": "1988", "stickerResourceType": "ANIMATION",
                      "keywords": ["happy", "smile"]}
        },
        {
          "type": "message", "mode": "active", "timestamp": 1692251669000,
          "source": {"type": "user", "userId": "U206d25c2ea6bd87c17655609a1c37cb8"},
          "webhookEventId": "01H810YECXQQZ37VAXPF6H9E6U",
          "deliveryContext": {"isRedelivery": false},
          "replyToken": "8cf9239d56244f4197887e939187e19e",
          "message": {"id": "468789680000000003", "type": "location", "title": "Siam Paragon",
                      "address": "991 Rama I Rd, Pathum Wan, Bangkok 10330",
                      "latitude": 13.746, "longitude": 100.5347}
        },
        {
          "type": "message", "mode": "active", "timestamp": 1692251670000,
          "source": {"type": "user", "userId": "U206d25c2ea6bd87c17655609a1c37cb8"},
          "webhookEventId": "01H810YECXQQZ37VAXPF6H9E6V",
          "deliveryContext": {"isRedelivery": false},
          "replyToken": "b60d432864f44d079f6d8efe86cf404b",
          "message": {"id": "468789700000000004", "type": "file", "fileName": "quotation.pdf", "fileSize": 204800}
        },
        {
          "type": "follow", "mode": "active", "timestamp": 1692251700000,
          "source": {"type": "user", "userId": "U206d25c2ea6bd87c17655609a1c37cb8"},
          "webhookEventId": "01H810YECXQQZ37VAXPF6H9E6W",
          "deliveryContext": {"isRedelivery": false},
          "replyToken": "85cbe770fa8b4f45bbe077b1d4be4a36",
          "follow": {"isUnblocked": false}
        },
        {
          "type": "unfollow", "mode": "active", "timestamp": 1692251800000,
          "source": {"type": "user", "userId": "U206d25c2ea6bd87c17655609a1c37cb8"},
          "webhookEventId": "01H810YECXQQZ37VAXPF6H9E6X",
          "deliveryContext": {"isRedelivery": false}
        },
        {
          "type": "message", "mode": "active", "timestamp": 1692251900000,
          "source": {"type": "group", "groupId": "Ca56f94637c7b39d6a5e7ad4f3e5a2c1d",
                     "userId": "U206d25c2ea6bd87c17655609a1c37cb8"},
          "webhookEventId": "01H810YECXQQZ37VAXPF6H9E6Y",
          "deliveryContext": {"isRedelivery": false},
          "replyToken": "d2e6b9a0c2f84b0d8a4b1f0f3c5e7a9b",
          "message": {"id": "468789800000000005", "type": "text", "quoteToken": "q3Plxr4AgKe",
                      "text": "@bot ขอใบเสนอราคาด้วยครับ",
                      "mention": {"mentionees": [{"index": 0, "length": 4, "type": "user",
                                                   "userId": "U4af4980629a1b2c3d4e5f60718293a4b", "isSelf": true}]}}
        },
        {
          "type": "postback", "mode": "active", "timestamp": 1692252000000,
          "source": {"type": "user", "userId": "U206d25c2ea6bd87c17655609a1c37cb8"},
          "webhookEventId": "01H810YECXQQZ37VAXPF6H9E6Z",
          "deliveryContext": {"isRedelivery": false},
          "replyToken": "b60d432864f44d079f6d8efe86cf404c",
          "postback": {"data": "action=book&itemid=111", "params": {"datetime": "2023-08-20T10:00"}}
        },
        {
          "type": "message", "mode": "active", "timestamp": 1692251666727,
          "source": {"type": "user", "userId": "U206d25c2ea6bd87c17655609a1c37cb8"},
          "webhookEventId": "01FZ74A0TDDPYRVKNK77XKC3ZR",
          "deliveryContext": {"isRedelivery": true},
          "replyToken": "38ef843bde154d9b91c21320ffd7a0b9",
          "message": {"id": "468789577898262530", "type": "text", "quoteToken": "q3Plxr4AgKd",
                      "text": "สวัสดีครับ อยากสอบถามราคา"}
        }
      ]
    }
    """#
}
