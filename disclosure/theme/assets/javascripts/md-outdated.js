// Material for MkDocs 9.8.1, partials/javascripts/outdated.html, as an external file so that the CSP needs no
// 'unsafe-inline' for scripts (disclosure/theme/partials/javascripts/outdated.html loads it). base_url arrives in
// data-md-base and is resolved against the page (Material's new URL(base_url) needs an absolute base_url).
var el=document.querySelector("[data-md-component=outdated]"),base=new URL(document.currentScript.getAttribute("data-md-base"),location),outdated=__md_get("__outdated",sessionStorage,base);!0===outdated&&el&&(el.hidden=!1)
