// Material for MkDocs 9.8.1, partials/javascripts/announce.html, as an external file so that the CSP needs no
// 'unsafe-inline' for scripts (disclosure/theme/partials/javascripts/announce.html loads it).
var el=document.querySelector("[data-md-component=announce]");if(el){var content=el.querySelector(".md-typeset");__md_hash(content.innerHTML)===__md_get("__announce")&&(el.hidden=!0)}
