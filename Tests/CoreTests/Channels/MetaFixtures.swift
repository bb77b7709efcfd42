/// Meta webhook bodies shaped like the Messenger, Pages feed and Instagram messaging references.
enum MetaFixtures {
    static let pageID = "104857392018475"
    static let psid = "6284739201847563"

    /// Entry 1: Messenger text, image, echo, read, reaction. Entry 2 (the same page, its id sent as
    /// a number): a comment with text, a comment without, the page's own comment, a like.
    static let page = #"""
    {
      "object": "page",
      "entry": [
        {
          "id": "104857392018475",
          "time": 1718000001000,
          "messaging": [
            {
              "sender": {"id": "6284739201847563"}, "recipient": {"id": "104857392018475"},
              "timestamp": 1718000000123,
              "message": {"mid": "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P",
                          "text": "สนใจสินค้าครับ ราคาเท่าไหร่"}
            },
            {
              "sender": {"id": "6284739201847563"}, "recipient": {"id": "104857392018475"},
              "timestamp": 1718000000200,
              "message": {"mid": "m_k3R9dT7vQzq1Yc2xWbN8pLmF0aHsJuE4oIgV6yXr5KtZ",
                          "attachments": [{"type": "image",
                                           "payload": {"url": "https://scontent.xx.fbcdn.net/v/t1.15752-9/448012345_n.jpg?_nc_cat=104&ccb=1-7&oh=00_AYB&oe=66A1B2C3"}}]}
            },
            {
              "sender": {"id": "104857392018475"}, "recipient": {"id": "6284739201847563"},
              "timestamp": 1718000000300,
              "message": {"is_echo": true, "app_id": 1517776481860111,
                          "mid": "m_echo_Zp0QwErTyUiOpAsDfGhJkL", "text": "ขอบคุณครับ ราคา 590 บาท"}
            },
            {
              "sender": {"id": "6284739201847563"}, "recipient": {"id": "104857392018475"},
              "timestamp": 1718000000500,
              "read": {"watermark": 1718000000000}
            },
            {
              "sender": {"id": "6284739201847563"}, "recipient": {"id": "104857392018475"},
              "timestamp": 1718000000600,
              "reaction": {"mid": "m_echo_Zp0QwErTyUiOpAsDfGhJkL", "action": "react", "emoji": "\u2764\uFE0F", "reaction": "love"}
            }
          ]
        },
        {
          "id": 104857392018475,
          "time": 1718000100,
          "changes": [
            {
              "field": "feed",
              "value": {
                "from": {"id": "5839201847562019", "name": "Somchai Jaidee"},
                "post": {"status_type": "added_photos", "is_published": true,
                         "updated_time": "2024-06-10T06:14:50+0000",
                         "permalink_url": "https://www.facebook.com/104857392018475/posts/pfbid02xyz",
                         "promotion_status": "inactive", "id": "104857392018475_122094857362"},
                "message": "ราคาเท่าไหร่ครับ ส่งฟรีไหม",
                "post_id": "104857392018475_122094857362",
                "comment_id": "122094857362_987654321098765",
                "created_time": 1718000090,
                "item": "comment",
                "parent_id": "104857392018475_122094857362",
                "verb": "add"
              }
            },
            {
              "field": "feed",
              "value": {
                "from": {"id": "5839201847562020", "name": "Malee Srisuk"},
                "post_id": "104857392018475_122094857362",
                "comment_id": "122094857362_987654321098766",
                "item": "comment",
                "parent_id": "122094857362_987654321098765",
                "verb": "add"
              }
            },
            {
              "field": "feed",
              "value": {
                "from": {"id": "104857392018475", "name": "HubChat Shop"},
                "message": "ทักแชทมาได้เลยครับ",
                "post_id": "104857392018475_122094857362",
                "comment_id": "122094857362_987654321098767",
                "created_time": 1718000095,
                "item": "comment",
                "parent_id": "122094857362_987654321098765",
                "verb": "add"
              }
            },
            {
              "field": "feed",
              "value": {
                "from": {"id": "5839201847562021", "name": "Niran K."},
                "post_id": "104857392018475_122094857362",
                "created_time": 1718000096,
                "item": "reaction",
                "parent_id": "104857392018475_122094857362",
                "reaction_type": "like",
                "verb": "add"
              }
            }
          ]
        }
      ]
    }
    """#

    static let igAccount = "17841400000000001"
    static let igsid = "1193847562019384"

    /// An Instagram DM, the account's echo of its reply, and a comment on a post.
    static let instagram = #"""
    {
      "object": "instagram",
      "entry": [
        {
          "time": 1718000200000,
          "id": "17841400000000001",
          "messaging": [
            {
              "sender": {"id": "1193847562019384"}, "recipient": {"id": "17841400000000001"},
              "timestamp": 1718000199000,
              "message": {"mid": "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAxOjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI1OTU1NzA3NjY4NjI3MTI2NTozMTk4NTY3NzEyNTc0NTI2NjI5NjU0MjE4MjkzNzE4NDY0MAZDZD",
                          "text": "Hi! Is this still available? 😊"}
            },
            {
              "sender": {"id": "17841400000000001"}, "recipient": {"id": "1193847562019384"},
              "timestamp": 1718000205000,
              "message": {"mid": "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAxOjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI1OTU1NzA3NjY4NjI3MTI2NTozMTk4NTY3NzEyNTc0NTI2NjI5NjU0MjE4MjkzNzE4NDY0MQZDZD",
                          "text": "Yes, it is!", "is_echo": true}
            }
          ],
          "changes": [
            {
              "field": "comments",
              "value": {"from": {"id": "1193847562019384", "username": "somchai.j"},
                        "media": {"id": "18012345678901234", "media_product_type": "FEED"},
                        "id": "17865799348089039", "text": "Nice! 🔥"}
            }
          ]
        }
      ]
    }
    """#
}
