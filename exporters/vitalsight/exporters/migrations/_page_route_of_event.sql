    -- an event's page route: the SDK's, else the page's url.template or path
    multiIf(a['browser.page.route'] != '', a['browser.page.route'], a['url.template'] != '', a['url.template'], a['url.path'] != '', a['url.path'], path(a['browser.page.url'])) AS route,
