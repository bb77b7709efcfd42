/// Every route of the product. The pool a route runs in comes from its `group`.
enum AllRoutes {
    static let list: [any Route] = [
        GetHealth(),
        GetLiveness(),
        PostLineWebhook(),
        GetFacebookWebhook(),
        PostFacebookWebhook(),
        GetInstagramWebhook(),
        PostInstagramWebhook(),
        GetLeads(),
        GetLead(),
        PatchLead(),
        GetLeadActivity(),
        PostLeadAssign(),
        GetConversations(),
        GetConversation(),
        GetMe(),
        GetConversationMessages(),
        PostConversationMarkRead(),
        GetDashboardMetricsRoute(),
        PostSendMessage(),
        PostUploadImage(),
        PostUploadPDF(),
        GetRealtimeAuthorize(),
    ]
}
